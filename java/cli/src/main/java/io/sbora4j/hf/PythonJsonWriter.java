package io.sbora4j.hf;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * JSON as Python's {@code json.dumps(x, ensure_ascii=False, indent=n)} writes it, which chat templates' {@code tojson}
 * is: {@code ", "} between items and {@code ": "} after keys on one line, or one item per line indented by n spaces
 * (items then end with {@code ","} alone), and characters outside ASCII written as they are.
 */
final class PythonJsonWriter {

    private PythonJsonWriter() {}

    /** Appends {@code v} at nesting {@code level}; {@code indent} below 0 writes one line. */
    static void write(Object v, int indent, int level, StringBuilder out) {
        switch (v) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case Integer i -> out.append(i);
            case Long l -> out.append(l);
            case Short s -> out.append(s);
            case Byte b -> out.append(b);
            case Number n -> out.append(pythonFloat(n.doubleValue()));
            case CharSequence s -> string(s.toString(), out);
            case Character c -> string(c.toString(), out);
            case Map<?, ?> m -> {
                List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
                container('{', '}', entries.size(), indent, level, out, i -> {
                    string(String.valueOf(entries.get(i).getKey()), out);
                    out.append(": ");
                    write(entries.get(i).getValue(), indent, level + 1, out);
                });
            }
            case Iterable<?> it -> {
                List<Object> items = new ArrayList<>();
                it.forEach(items::add);
                container('[', ']', items.size(), indent, level, out, i -> write(items.get(i), indent, level + 1, out));
            }
            default -> {
                if (v.getClass().isArray()) {
                    int n = Array.getLength(v);
                    container('[', ']', n, indent, level, out, i -> write(Array.get(v, i), indent, level + 1, out));
                } else {
                    string(v.toString(), out);
                }
            }
        }
    }

    private static void container(
            char open, char close, int n, int indent, int level, StringBuilder out, IntConsumer item) {
        out.append(open);
        if (n == 0) {
            out.append(close);
            return;
        }
        for (int i = 0; i < n; i++) {
            if (indent >= 0) {
                out.append(i == 0 ? "\n" : ",\n").append(" ".repeat(indent * (level + 1)));
            } else if (i > 0) {
                out.append(", ");
            }
            item.accept(i);
        }
        if (indent >= 0) {
            out.append('\n').append(" ".repeat(indent * level));
        }
        out.append(close);
    }

    /** Python's repr of a float: 1.0, 0.5, 1e-05, inf as Infinity (json.dumps's spelling). */
    private static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e16) {
            return (long) d + ".0";
        }
        String s = Double.toString(d);
        int e = s.indexOf('E');
        if (e < 0) {
            return s;
        }
        String mantissa = s.substring(0, e);
        if (mantissa.endsWith(".0")) {
            mantissa = mantissa.substring(0, mantissa.length() - 2);
        }
        int exp = Integer.parseInt(s.substring(e + 1));
        return mantissa + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
