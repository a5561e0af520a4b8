package io.sbora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.cuda.ffi.CudaLibraries;
import io.sbora4j.cuda.ffi.sbora_cuda_h;
import io.sbora4j.testing.HeaderBindings;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The hand-kept bindings say exactly what {@code sbora_cuda.h} says, and the built library exports all of it. */
class CudaHeaderBindingsTest {

    private static Path header() {
        return HeaderBindings.sourceFile("cuda-kernels", "include", "sbora_cuda.h");
    }

    @Test
    void everyHeaderFunctionHasABindingWithTheSameSignature() throws Exception {
        HeaderBindings.assertHeaderIsBound(header(), sbora_cuda_h.class);
        HeaderBindings.assertBindingsAreDeclared(header(), sbora_cuda_h.class);
    }

    /** Where nvcc built the CUDA library (it opens without a GPU: the runtime is linked in statically). */
    @Test
    void everyFunctionResolvesInTheBuiltLibraryWhereOneWasBuilt() throws Exception {
        var lib = CudaLibraries.sboraCudaStatus().lookup();
        Assumptions.assumeTrue(
                lib.isPresent(),
                () -> "libsbora_cuda.so was not built here: "
                        + CudaLibraries.sboraCudaStatus().problem());
        for (String fn : HeaderBindings.parse(header()).keySet()) {
            assertTrue(lib.get().find(fn).isPresent(), fn + " missing from libsbora_cuda.so");
        }
    }
}
