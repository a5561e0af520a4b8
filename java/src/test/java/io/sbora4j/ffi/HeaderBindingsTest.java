package io.sbora4j.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The hand-kept bindings say exactly what the C header says: the same functions, and for each the same parameter
 * types (int64_t to long, pointers to addresses, ...) and an int status result. Edit one without the other and this
 * fails, naming the function.
 */
class HeaderBindingsTest {

    private static final Pattern PROTOTYPE =
            Pattern.compile("SBC?_API\\s+int\\s+(\\w+)\\s*\\(([^)]*)\\)\\s*;", Pattern.DOTALL);

    static Path header() {
        return Path.of(System.getProperty("sbora.root", ".."), "native", "include", "sbora_native.h");
    }

    static Path cudaHeader() {
        return Path.of(System.getProperty("sbora.root", ".."), "cuda-kernels", "include", "sbora_cuda.h");
    }

    /** name -> layouts of the parameters, parsed from the header. */
    static Map<String, List<MemoryLayout>> parseHeader(String text) {
        String code = text.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", " ");
        Map<String, List<MemoryLayout>> out = new TreeMap<>();
        Matcher m = PROTOTYPE.matcher(code);
        while (m.find()) {
            List<MemoryLayout> params = new ArrayList<>();
            String args = m.group(2).trim();
            if (!args.equals("void")) {
                for (String p : args.split(",")) {
                    params.add(layoutOf(p.trim()));
                }
            }
            out.put(m.group(1), params);
        }
        return out;
    }

    private static MemoryLayout layoutOf(String param) {
        if (param.contains("*")) {
            return sbora_native_h.C_POINTER;
        }
        String type = param.replace("const ", "").replaceAll("\\s+\\w+$", "").trim();
        return switch (type) {
            case "int64_t" -> sbora_native_h.C_LONG;
            case "int", "int32_t" -> sbora_native_h.C_INT;
            case "float" -> sbora_native_h.C_FLOAT;
            case "double" -> sbora_native_h.C_DOUBLE;
            default -> throw new AssertionError("no layout for C type '" + type + "' in '" + param + "'");
        };
    }

    @Test
    void everyHeaderFunctionHasABindingWithTheSameSignature() throws Exception {
        compare(header(), sbora_native_h.class);
    }

    @Test
    void everyCudaHeaderFunctionHasABindingWithTheSameSignature() throws Exception {
        compare(cudaHeader(), sbora_cuda_h.class);
        for (Method m : sbora_cuda_h.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && m.getName().endsWith("$descriptor")) {
                String fn = m.getName().substring(0, m.getName().length() - "$descriptor".length());
                assertTrue(parseHeader(Files.readString(cudaHeader())).containsKey(fn), fn + " is not in the header");
            }
        }
    }

    private static void compare(Path headerFile, Class<?> bindings) throws Exception {
        Map<String, List<MemoryLayout>> declared = parseHeader(Files.readString(headerFile));
        assertTrue(declared.size() >= 20, "parsed only " + declared.keySet());
        for (var e : declared.entrySet()) {
            Method descriptor = bindings.getMethod(e.getKey() + "$descriptor");
            FunctionDescriptor fd = (FunctionDescriptor) descriptor.invoke(null);
            assertEquals(ValueLayout.JAVA_INT, fd.returnLayout().orElseThrow(), e.getKey() + " returns int");
            assertEquals(e.getValue().size(), fd.argumentLayouts().size(), e.getKey() + " parameter count");
            for (int i = 0; i < e.getValue().size(); i++) {
                assertEquals(e.getValue().get(i).withoutName(), fd.argumentLayouts().get(i).withoutName(),
                        e.getKey() + " parameter " + i);
            }
        }
    }

    @Test
    void everyBindingIsDeclaredInTheHeader() throws IOException {
        Map<String, List<MemoryLayout>> declared = parseHeader(Files.readString(header()));
        for (Method m : sbora_native_h.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && m.getName().endsWith("$descriptor")) {
                String fn = m.getName().substring(0, m.getName().length() - "$descriptor".length());
                assertTrue(declared.containsKey(fn), fn + " is bound but not declared in " + header());
            }
        }
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
        for (String fn : parseHeader(Files.readString(header())).keySet()) {
            assertTrue(NativeLibraries.sboraNative().find(fn).isPresent(), fn + " missing from libsbora_native.so");
        }
    }

    /** Where nvcc built the CUDA library (it opens without a GPU: the runtime is linked in statically). */
    @Test
    void everyCudaFunctionResolvesInTheBuiltLibraryWhereOneWasBuilt() throws Exception {
        var lib = NativeLibraries.sboraCudaStatus().lookup();
        org.junit.jupiter.api.Assumptions.assumeTrue(lib.isPresent(),
                () -> "libsbora_cuda.so was not built here: " + NativeLibraries.sboraCudaStatus().problem());
        for (String fn : parseHeader(Files.readString(cudaHeader())).keySet()) {
            assertTrue(lib.get().find(fn).isPresent(), fn + " missing from libsbora_cuda.so");
        }
    }
}
