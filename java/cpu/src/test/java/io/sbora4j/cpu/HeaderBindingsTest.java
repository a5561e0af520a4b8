package io.sbora4j.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.cpu.ffi.CpuLibraries;
import io.sbora4j.cpu.ffi.sbora_native_h;
import io.sbora4j.testing.HeaderBindings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The hand-kept bindings say exactly what {@code sbora_native.h} says: the same functions, and for each the same
 * parameter types and an int status result. Edit one without the other and this fails, naming the function.
 */
class HeaderBindingsTest {

    private static Path header() {
        return HeaderBindings.sourceFile("native", "include", "sbora_native.h");
    }

    @Test
    void everyHeaderFunctionHasABindingWithTheSameSignature() throws Exception {
        HeaderBindings.assertHeaderIsBound(header(), sbora_native_h.class);
    }

    @Test
    void everyBindingIsDeclaredInTheHeader() throws IOException {
        HeaderBindings.assertBindingsAreDeclared(header(), sbora_native_h.class);
    }

    @Test
    void statusCodesMatchTheHeader() throws IOException {
        String text = Files.readString(header());
        assertTrue(text.contains("#define SB_OK " + sbora_native_h.SB_OK));
        assertTrue(text.contains("#define SB_ERR_ARG " + sbora_native_h.SB_ERR_ARG));
        assertTrue(text.contains("#define SB_ERR_INDEX " + sbora_native_h.SB_ERR_INDEX));
    }

    @Test
    void everyBindingResolvesInTheBuiltLibrary() throws Exception {
        for (String fn : HeaderBindings.parse(header()).keySet()) {
            assertTrue(CpuLibraries.sboraNative().find(fn).isPresent(), fn + " missing from libsbora_native.so");
        }
    }
}
