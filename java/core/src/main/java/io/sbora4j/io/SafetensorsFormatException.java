package io.sbora4j.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A file that is not a well-formed safetensors file (or sharded index), or a tensor in it that cannot be loaded. The
 * message always names the file and, where there is one, the tensor, on one line: control characters the file put
 * in a name or a value are shown escaped ({@code \n}, {@code \u0000}).
 */
public class SafetensorsFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** A problem with {@code file}; {@code problem} says what is wrong. */
    public SafetensorsFormatException(Path file, String problem) {
        super(oneLine(file + ": " + problem));
        this.file = file;
    }

    /** A problem with {@code file} found by a lower layer (the JSON parser, the UTF-8 decoder). */
    public SafetensorsFormatException(Path file, String problem, Throwable cause) {
        super(oneLine(file + ": " + problem), cause);
        this.file = file;
    }

    /** {@code s} with every control character escaped, so that a message is one line whatever a file holds. */
    static String oneLine(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean control = c < 0x20 || c == 0x7f || c == 0x85 || c == 0x2028 || c == 0x2029;
            if (control && sb == null) {
                sb = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (sb != null) {
                switch (c) {
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        if (control) {
                            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
        }
        return sb == null ? s : sb.toString();
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
