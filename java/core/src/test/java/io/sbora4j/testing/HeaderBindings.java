package io.sbora4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.AddressLayout;
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

/**
 * Checks a hand-kept binding class against its C header: the same functions, and for each the same parameter types
 * (int64_t to long, pointers to addresses, ...) and an int status result. Shared by the cpu and cuda backends' tests.
 */
public final class HeaderBindings {

    private static final Pattern PROTOTYPE =
            Pattern.compile("SBC?_API\\s+int\\s+(\\w+)\\s*\\(([^)]*)\\)\\s*;", Pattern.DOTALL);

    private HeaderBindings() {}

    /** A file of the source tree ({@code sbora.root}, set by the build, is its top). */
    public static Path sourceFile(String... parts) {
        return Path.of(System.getProperty("sbora.root", "../.."), parts);
    }

    /** name -> layouts of the parameters, parsed from the header's {@code SB_API int f(...)} prototypes. */
    public static Map<String, List<MemoryLayout>> parse(Path header) throws IOException {
        String code =
                Files.readString(header).replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", " ");
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
            return ValueLayout.ADDRESS;
        }
        String type = param.replace("const ", "").replaceAll("\\s+\\w+$", "").trim();
        return switch (type) {
            case "int64_t" -> ValueLayout.JAVA_LONG;
            case "int", "int32_t" -> ValueLayout.JAVA_INT;
            case "float" -> ValueLayout.JAVA_FLOAT;
            case "double" -> ValueLayout.JAVA_DOUBLE;
            default -> throw new AssertionError("no layout for C type '" + type + "' in '" + param + "'");
        };
    }

    /** Every function of {@code header} has a {@code <name>$descriptor} in {@code bindings} with its signature. */
    public static void assertHeaderIsBound(Path header, Class<?> bindings) throws Exception {
        Map<String, List<MemoryLayout>> declared = parse(header);
        assertTrue(declared.size() >= 20, "parsed only " + declared.keySet());
        for (var e : declared.entrySet()) {
            Method descriptor = bindings.getMethod(e.getKey() + "$descriptor");
            FunctionDescriptor fd = (FunctionDescriptor) descriptor.invoke(null);
            assertEquals(ValueLayout.JAVA_INT, fd.returnLayout().orElseThrow(), e.getKey() + " returns int");
            assertEquals(e.getValue().size(), fd.argumentLayouts().size(), e.getKey() + " parameter count");
            for (int i = 0; i < e.getValue().size(); i++) {
                assertEquals(
                        plain(e.getValue().get(i)), plain(fd.argumentLayouts().get(i)), e.getKey() + " parameter " + i);
            }
        }
    }

    /** Every {@code $descriptor} of {@code bindings} names a function of {@code header}. */
    public static void assertBindingsAreDeclared(Path header, Class<?> bindings) throws IOException {
        Map<String, List<MemoryLayout>> declared = parse(header);
        for (Method m : bindings.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && m.getName().endsWith("$descriptor")) {
                String fn = m.getName().substring(0, m.getName().length() - "$descriptor".length());
                assertTrue(declared.containsKey(fn), fn + " is bound but not declared in " + header);
            }
        }
    }

    /** A layout without its name, and a pointer without its target layout: what a C prototype says. */
    private static MemoryLayout plain(MemoryLayout l) {
        MemoryLayout u = l.withoutName();
        return u instanceof AddressLayout a ? a.withoutTargetLayout() : u;
    }
}
