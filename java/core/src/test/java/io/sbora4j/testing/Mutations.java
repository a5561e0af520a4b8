package io.sbora4j.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Mutations for fuzzing file parsers: byte-level damage (flips, insertions, deletions, truncation, bytes that are
 * not UTF-8) and JSON-aware damage (numbers at the edges of every integer type, values of another type, huge
 * strings and numbers, deep nesting, duplicated keys, control characters and lone surrogates), stacked one to four
 * at a time, all drawn from one seeded generator so that a case is reproduced by its seed.
 */
public final class Mutations {

    private Mutations() {}

    /** Numbers at the edges of int, long and double, and ones a parser may round or truncate silently. */
    private static final String[] NUMBERS = {
        "0",
        "-0",
        "1",
        "-1",
        "2",
        "3",
        "7",
        "8",
        "63",
        "64",
        "255",
        "256",
        "65535",
        "65536",
        "2147483647",
        "2147483648",
        "-2147483648",
        "-2147483649",
        "4294967295",
        "4294967296",
        "4294967328",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "1e309",
        "-1e309",
        "1e-400",
        "4.9e-324",
        "1.5",
        "2.5",
        "-0.0",
        "1e2",
        "1E+2",
        "0.1",
        "33554432",
        "1048577",
        "0x10",
        "00",
        "01",
        "1.",
        ".5",
        "+1",
        "NaN",
        "Infinity",
        "-Infinity"
    };

    /** JSON values of every type, some of them hostile. */
    private static final String[] VALUES = {
        "null",
        "true",
        "false",
        "\"\"",
        "\"x\"",
        "[]",
        "{}",
        "[1,2]",
        "{\"a\":1}",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"\\udc00\\ud800\"",
        "\"\\n\"",
        "\"\u00e9\u65e5\ud83d\ude00\"",
        "\"\\u202e\"",
        "[null]",
        "[[]]",
        "{\"\":{}}",
        "-1",
        "1e999",
        "\"-1\"",
        "\"1\"",
        "\"NaN\""
    };

    /** Byte sequences that are not UTF-8, or are UTF-8 a careless decoder mishandles. */
    private static final byte[][] BAD_UTF8 = {
        {(byte) 0x80},
        {(byte) 0xC0, (byte) 0x80},
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
        {(byte) 0xFF},
        {(byte) 0xFE},
        {(byte) 0xE2, (byte) 0x82},
        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
        {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
        {0}
    };

    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?");
    // possessive: a run of plain characters is one step, so that long strings do not recurse per character
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]++|\\\\.)*+\"");
    private static final Pattern MEMBER =
            Pattern.compile("\"(?:[^\"\\\\]++|\\\\.)*+\"\\s*:\\s*(?:\"(?:[^\"\\\\]++|\\\\.)*+\"|[^,}\\]]++)");

    /** {@code input} with one to four mutations, JSON-aware ones where the bytes hold JSON text. */
    public static byte[] mutate(byte[] input, SplittableRandom rng) {
        byte[] b = input;
        int n = 1 + rng.nextInt(4);
        for (int i = 0; i < n; i++) {
            b = rng.nextInt(10) < 6 ? json(b, rng) : bytes(b, rng);
        }
        return b;
    }

    /** {@code text} with one to four mutations, as {@link #mutate}. */
    public static byte[] mutate(String text, SplittableRandom rng) {
        return mutate(text.getBytes(StandardCharsets.UTF_8), rng);
    }

    /** One byte-level mutation. */
    public static byte[] bytes(byte[] b, SplittableRandom rng) {
        int len = b.length;
        switch (rng.nextInt(8)) {
            case 0 -> { // flip a bit
                if (len == 0) {
                    return new byte[] {(byte) rng.nextInt(256)};
                }
                byte[] c = b.clone();
                c[rng.nextInt(len)] ^= (byte) (1 << rng.nextInt(8));
                return c;
            }
            case 1 -> { // set a byte
                if (len == 0) {
                    return b;
                }
                byte[] c = b.clone();
                c[rng.nextInt(len)] = (byte) rng.nextInt(256);
                return c;
            }
            case 2 -> { // delete a range
                if (len == 0) {
                    return b;
                }
                int at = rng.nextInt(len), n = 1 + rng.nextInt(Math.min(len - at, 64));
                return splice(b, at, n, new byte[0]);
            }
            case 3 -> { // repeat a range
                if (len == 0) {
                    return b;
                }
                int at = rng.nextInt(len), n = 1 + rng.nextInt(Math.min(len - at, 64));
                return splice(b, at, 0, Arrays.copyOfRange(b, at, at + n));
            }
            case 4 -> { // truncate
                return Arrays.copyOf(b, rng.nextInt(len + 1));
            }
            case 5 -> { // insert bytes that are not UTF-8
                return splice(b, rng.nextInt(len + 1), 0, BAD_UTF8[rng.nextInt(BAD_UTF8.length)]);
            }
            case 6 -> { // insert random bytes
                byte[] r = new byte[1 + rng.nextInt(16)];
                rng.nextBytes(r);
                return splice(b, rng.nextInt(len + 1), 0, r);
            }
            default -> { // a structural character, inserted or in place of a byte
                String chars = "{}[],:\"\\ \n";
                byte[] c = {(byte) chars.charAt(rng.nextInt(chars.length()))};
                int at = rng.nextInt(len + 1);
                return splice(b, at, at < len && rng.nextBoolean() ? 1 : 0, c);
            }
        }
    }

    /** One JSON-aware mutation of the text in {@code b} (decoded leniently). */
    public static byte[] json(byte[] b, SplittableRandom rng) {
        String t = new String(b, StandardCharsets.UTF_8);
        String r = switch (rng.nextInt(9)) {
            case 0, 1 -> replaceOne(t, NUMBER, rng, () -> NUMBERS[rng.nextInt(NUMBERS.length)]);
            case 2 -> replaceOne(t, STRING, rng, () -> VALUES[rng.nextInt(VALUES.length)]);
            case 3 -> replaceOne(t, NUMBER, rng, () -> VALUES[rng.nextInt(VALUES.length)]);
            case 4 -> duplicateMember(t, rng);
            case 5 -> replaceOne(t, STRING, rng, () -> hugeString(rng));
            case 6 -> replaceOne(t, NUMBER, rng, () -> hugeNumber(rng));
            case 7 -> replaceOne(t, rng.nextBoolean() ? STRING : NUMBER, rng, () -> deep(rng));
            default -> deleteMember(t, rng);
        };
        return r.getBytes(StandardCharsets.UTF_8);
    }

    private interface Value {
        String next();
    }

    private static String replaceOne(String t, Pattern p, SplittableRandom rng, Value v) {
        List<int[]> spans = spans(t, p);
        if (spans.isEmpty()) {
            return t;
        }
        int[] s = spans.get(rng.nextInt(spans.size()));
        return t.substring(0, s[0]) + v.next() + t.substring(s[1]);
    }

    private static String duplicateMember(String t, SplittableRandom rng) {
        List<int[]> spans = spans(t, MEMBER);
        if (spans.isEmpty()) {
            return t;
        }
        int[] s = spans.get(rng.nextInt(spans.size()));
        String member = t.substring(s[0], s[1]);
        return t.substring(0, s[1]) + "," + member + t.substring(s[1]);
    }

    private static String deleteMember(String t, SplittableRandom rng) {
        List<int[]> spans = spans(t, MEMBER);
        if (spans.isEmpty()) {
            return t;
        }
        int[] s = spans.get(rng.nextInt(spans.size()));
        int end = s[1] < t.length() && t.charAt(s[1]) == ',' ? s[1] + 1 : s[1];
        return t.substring(0, s[0]) + t.substring(end);
    }

    private static List<int[]> spans(String t, Pattern p) {
        List<int[]> out = new ArrayList<>();
        Matcher m = p.matcher(t);
        while (m.find() && out.size() < 100_000) {
            out.add(new int[] {m.start(), m.end()});
        }
        return out;
    }

    /** A string of up to 2^20 characters, once in 500 of up to 2^24 + 2^10 (past a 16 Mi limit). */
    private static String hugeString(SplittableRandom rng) {
        int n = rng.nextInt(500) == 0 ? (1 << 24) + rng.nextInt(1 << 10) : rng.nextInt(1 << 20);
        char[] c = new char[n];
        Arrays.fill(c, "a\u00e9\u65e5 ".charAt(rng.nextInt(4)));
        return "\"" + new String(c) + "\"";
    }

    /** A number of up to 5000 digits. */
    private static String hugeNumber(SplittableRandom rng) {
        char[] c = new char[1 + rng.nextInt(5000)];
        Arrays.fill(c, '9');
        return (rng.nextBoolean() ? "-" : "") + new String(c) + (rng.nextBoolean() ? ".5e7" : "");
    }

    /** Arrays or objects nested up to 5000 deep. */
    private static String deep(SplittableRandom rng) {
        int depth = 1 + rng.nextInt(5000);
        boolean arrays = rng.nextBoolean();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            sb.append(arrays ? "[" : "{\"a\":");
        }
        sb.append("1");
        for (int i = 0; i < depth; i++) {
            sb.append(arrays ? "]" : "}");
        }
        return sb.toString();
    }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length - remove + insert.length);
        out.write(b, 0, at);
        out.writeBytes(insert);
        out.write(b, at + remove, b.length - at - remove);
        return out.toByteArray();
    }
}
