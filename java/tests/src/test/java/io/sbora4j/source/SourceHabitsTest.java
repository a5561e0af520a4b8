package io.sbora4j.source;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Habits the formatter does not keep: code names a class by its simple name, with an import, not by a fully
 * qualified name inline (comments and strings may say what they like).
 */
class SourceHabitsTest {

    private static final Pattern INLINE =
            Pattern.compile("(?<![\\w.])((?:java|javax|io\\.sbora4j|com\\.fasterxml|org|picocli|ai\\.djl|net\\.jqwik)"
                    + "(?:\\.[a-z][a-z0-9_]*)+)\\.([A-Z]\\w*)");

    @Test
    void codeHasNoInlineFullyQualifiedNames() throws IOException {
        Path root = Path.of(System.getProperty("sbora.root", "../.."));
        List<String> found = new ArrayList<>();
        for (String dir : List.of("java", "jmh", "examples")) {
            try (Stream<Path> files = Files.walk(root.resolve(dir))) {
                for (Path f : files.filter(SourceHabitsTest::isSource).toList()) {
                    String code = codeOnly(Files.readString(f));
                    Matcher m = INLINE.matcher(code);
                    while (m.find()) {
                        int line = (int) code.substring(0, m.start())
                                        .chars()
                                        .filter(c -> c == '\n')
                                        .count()
                                + 1;
                        found.add(root.relativize(f) + ":" + line + " " + m.group());
                    }
                }
            }
        }
        assertEquals(List.of(), found, "import these instead");
    }

    private static boolean isSource(Path f) {
        String name = f.getFileName().toString(), path = f.toString();
        return name.endsWith(".java")
                && !name.equals("module-info.java")
                && !name.equals("package-info.java")
                && !path.contains("/target/");
    }

    /** The text with comments, string and char literals, and import and package lines blanked out. */
    static String codeOnly(String src) {
        StringBuilder out = new StringBuilder(src);
        int n = src.length();
        for (int i = 0; i < n; ) {
            int end;
            if (src.startsWith("//", i)) {
                end = src.indexOf('\n', i);
                end = end < 0 ? n : end;
            } else if (src.startsWith("/*", i)) {
                end = src.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
            } else if (src.startsWith("\"\"\"", i)) {
                end = src.indexOf("\"\"\"", i + 3);
                end = end < 0 ? n : end + 3;
            } else if (src.charAt(i) == '"' || src.charAt(i) == '\'') {
                char q = src.charAt(i);
                end = i + 1;
                while (end < n && src.charAt(end) != q) {
                    end += src.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(end + 1, n);
            } else if ((i == 0 || src.charAt(i - 1) == '\n')
                    && (src.startsWith("import ", i) || src.startsWith("package ", i))) {
                end = src.indexOf('\n', i);
                end = end < 0 ? n : end;
            } else {
                i++;
                continue;
            }
            for (int k = i; k < end; k++) {
                if (out.charAt(k) != '\n') {
                    out.setCharAt(k, ' ');
                }
            }
            i = end;
        }
        return out.toString();
    }
}
