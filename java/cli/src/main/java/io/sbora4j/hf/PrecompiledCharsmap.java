package io.sbora4j.hf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.BitSet;
import java.util.HexFormat;

/**
 * The {@code precompiled_charsmap} of a {@code Precompiled} normalizer (SentencePiece's compiled normalization rules:
 * T5, mT5, XLM-RoBERTa, ALBERT and most Unigram models), read the way the native library reads it, so that only a
 * map the library would panic on (and a panic there aborts the process) is refused.
 *
 * <p>The library (tokenizers 0.21.4, through spm_precompiled 0.1.4 and base64 0.13.1) reads the map in
 * {@code spm_precompiled/src/lib.rs}: {@code from_base64} decodes the text, {@code parse} reads a little-endian u32
 * trie size and then {@code size / 4} u32 units (nom's {@code le_u32}: an error when the bytes run out), and
 * {@code Precompiled::from} takes the rest as the normalized strings ({@code String::from_utf8}: an error when it
 * is not UTF-8). Any of these errors is a panic, because {@code tokenizers/src/normalizers/mod.rs} deserializes a
 * Precompiled normalizer with {@code .expect("Precompiled")}. Then, per text encoded,
 * {@code tokenizers/src/normalizers/precompiled.rs} ({@code Precompiled::normalize}) looks up every grapheme of
 * under 6 bytes and every character through {@code Precompiled::transform}, which calls
 * {@code DoubleArray::common_prefix_search}: it indexes the unit array at {@code 0} and at {@code pos ^ byte} for each
 * byte of the key, and at the leaf of each matched prefix, all without a bounds check ({@code self.array[i]}: a
 * panic past the end); {@code transform} then slices the normalized strings at the first match's value
 * ({@code &self.normalized[index..index2]}: a panic when the value lies past their end or inside a character).
 *
 * <p>{@link #read} replays exactly those reads and indexes for every key the library can look up: each UTF-8 string
 * of at most {@value #MAX_KEY_BYTES} bytes (a grapheme of under 6 bytes, or one character; the walk stops at a NUL
 * byte). It visits each (unit, depth, UTF-8 state) once, so a map of n units costs O(n) visits of at most 178 bytes
 * each. This is exact for the keys of one character; for longer keys it takes every UTF-8 string as a possible
 * grapheme, which refuses a map that would only fail on a string no text segments into (SentencePiece's own maps,
 * built in 256-unit blocks, never do). One refusal is a bound rather than a panic: a key rewritten to over
 * {@value #MAX_REWRITE_BYTES} bytes.
 */
final class PrecompiledCharsmap {

    /** The longest key the library looks up: a grapheme of under 6 bytes ({@code grapheme.len() < 6}). */
    static final int MAX_KEY_BYTES = 5;

    /**
     * The longest string a key may become. Not a panic but a bound: each character of a text may become its
     * rule's string, so one of a few hundred kilobytes would make a text of a few thousand characters take gigabytes
     * of native memory (and an allocation failure aborts); SentencePiece's nmt_nfkc map rewrites no key to more than
     * 33 bytes (U+FDFA, a ligature of 18 characters).
     */
    static final int MAX_REWRITE_BYTES = 1024;

    private static final int LEAD = 0;
    /** Continuation ranges: [80, BF], [A0, BF] (after E0), [80, 9F] (after ED), [90, BF] (after F0), [80, 8F]. */
    private static final int[][] RANGES = {{0x80, 0xBF}, {0xA0, 0xBF}, {0x80, 0x9F}, {0x90, 0xBF}, {0x80, 0x8F}};

    private static final int STATES = 1 + 3 * RANGES.length;

    private final int[] units;
    private final byte[] normalized;

    private PrecompiledCharsmap(int[] units, byte[] normalized) {
        this.units = units;
        this.normalized = normalized;
    }

    /**
     * The map in {@code base64}, or an IllegalArgumentException (one line) saying why the library would panic on it.
     */
    static PrecompiledCharsmap read(String base64) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("is not base64 (" + e.getMessage() + ")");
        }
        // base64 0.13.1 takes canonical, padded standard base64; Java's decoder also takes what it may not (no
        // padding, stray bits in the last character): refuse anything but the canonical encoding of the bytes
        if (!Base64.getEncoder().encodeToString(bytes).equals(base64)) {
            throw new IllegalArgumentException("is not canonical padded base64");
        }
        // spm_precompiled's parse(): le_u32 trie size, then trie_size / 4 le_u32 units
        if (bytes.length < 4) {
            throw new IllegalArgumentException(
                    "is " + bytes.length + " bytes, too short for its trie size (4 bytes): the library aborts");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long trieBytes = Integer.toUnsignedLong(b.getInt(0));
        long count = trieBytes / 4;
        if (4 + 4 * count > bytes.length) {
            throw new IllegalArgumentException("names a trie of " + trieBytes + " bytes in " + bytes.length
                    + " bytes: the library aborts reading it");
        }
        int[] units = new int[(int) count];
        for (int i = 0; i < units.length; i++) {
            units[i] = b.getInt(4 + 4 * i);
        }
        byte[] normalized = new byte[bytes.length - 4 - 4 * units.length];
        System.arraycopy(bytes, 4 + 4 * units.length, normalized, 0, normalized.length);
        try { // Precompiled::from: String::from_utf8(normalized_blob)
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(normalized));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("holds normalized strings that are not UTF-8: the library aborts");
        }
        if (units.length == 0) {
            // common_prefix_search reads self.array[0] for every key
            throw new IllegalArgumentException("has an empty trie: the library aborts on the first text");
        }
        PrecompiledCharsmap map = new PrecompiledCharsmap(units, normalized);
        map.walk();
        return map;
    }

    /** The units of the trie. */
    int size() {
        return units.length;
    }

    /**
     * What the map makes of the one-byte key {@code c} (an ASCII character that is a grapheme by itself): the
     * normalized string of its match, or null where the map leaves it as it is.
     */
    String transform(char c) {
        if (c == 0 || c > 0x7F) {
            throw new IllegalArgumentException("not an ASCII character: " + (int) c);
        }
        int root = offset(units[0]);
        int pos = root ^ c;
        if (pos >= units.length || label(units[pos]) != c || !hasLeaf(units[pos])) {
            return null;
        }
        int start = value(units[pos ^ offset(units[pos])]);
        int end = start;
        while (end < normalized.length && normalized[end] != 0) {
            end++;
        }
        return new String(normalized, start, end - start, StandardCharsets.UTF_8);
    }

    /**
     * Every walk {@code common_prefix_search} and {@code transform} can take: depth first over (unit, depth, UTF-8
     * state, whether a match was already found), each visited once.
     */
    private void walk() {
        int n = units.length;
        BitSet seen = new BitSet();
        ArrayDeque<long[]> todo = new ArrayDeque<>();
        byte[] path = new byte[MAX_KEY_BYTES];
        // a node of the walk: {pos, depth, state, matched, the key's bytes so far (for the message)}
        todo.push(new long[] {offset(units[0]), 0, LEAD, 0, 0});
        while (!todo.isEmpty()) {
            long[] node = todo.pop();
            int pos = (int) node[0], depth = (int) node[1], state = (int) node[2];
            boolean matched = node[3] != 0;
            long key = node[4];
            for (int i = 0; i < depth; i++) {
                path[i] = (byte) (key >>> (8 * i));
            }
            int lo, hi;
            if (state == LEAD) {
                lo = 0x01;
                hi = 0xF4;
            } else {
                int[] r = RANGES[(state - 1) % RANGES.length];
                lo = r[0];
                hi = r[1];
            }
            for (int c = lo; c <= hi; c++) {
                int next = nextState(state, c, depth);
                if (next < 0) {
                    continue; // no UTF-8 string of at most MAX_KEY_BYTES bytes goes on with c here
                }
                path[depth] = (byte) c;
                int np = pos ^ c; // both under 2^30: offset() is at most (2^22 - 1) << 8
                if (np >= n) {
                    throw outside(np, path, depth + 1);
                }
                int unit = units[np];
                if (label(unit) != c) {
                    continue;
                }
                int child = np ^ offset(unit);
                boolean nowMatched = matched;
                if (hasLeaf(unit)) {
                    if (child >= n) {
                        throw outside(child, path, depth + 1);
                    }
                    if (!matched) { // transform slices at the first match only
                        checkValue(value(units[child]), path, depth + 1);
                        nowMatched = true;
                    }
                }
                if (depth + 1 < MAX_KEY_BYTES) {
                    // past n + 255 every next byte indexes past the end, which the next visit reports
                    int bit = child < n + 256
                            ? (((child * MAX_KEY_BYTES + depth + 1) * STATES + next) << 1) | (nowMatched ? 1 : 0)
                            : -1;
                    if (bit < 0 || !seen.get(bit)) {
                        if (bit >= 0) {
                            seen.set(bit);
                        }
                        todo.push(
                                new long[] {child, depth + 1, next, nowMatched ? 1 : 0, key | ((long) c << (8 * depth))
                                });
                    }
                }
            }
        }
    }

    /** {@code &self.normalized[index..index2]}: a panic past the end or inside a character. */
    private void checkValue(int v, byte[] path, int length) {
        if (v > normalized.length) {
            throw new IllegalArgumentException("maps the bytes " + hex(path, length) + " to offset " + v
                    + ", past the end of its " + normalized.length + " bytes of normalized strings: the library"
                    + " aborts");
        }
        if (v < normalized.length && (normalized[v] & 0xC0) == 0x80) {
            throw new IllegalArgumentException("maps the bytes " + hex(path, length) + " to offset " + v
                    + ", inside a character of its normalized strings: the library aborts");
        }
        int end = v;
        while (end < normalized.length && normalized[end] != 0 && end - v <= MAX_REWRITE_BYTES) {
            end++;
        }
        if (end - v > MAX_REWRITE_BYTES) {
            throw new IllegalArgumentException("rewrites the bytes " + hex(path, length) + " to more than "
                    + MAX_REWRITE_BYTES + " bytes: a text of such characters would grow without bound");
        }
    }

    /**
     * The UTF-8 state after byte {@code c} at {@code depth} in {@code state}, or -1 where no key of at most
     * {@link #MAX_KEY_BYTES} bytes has it there.
     */
    private static int nextState(int state, int c, int depth) {
        if (state != LEAD) {
            int need = (state - 1) / RANGES.length + 1; // continuation bytes still due, c being the first of them
            return need == 1 ? LEAD : 1 + (need - 2) * RANGES.length; // then [80, BF]
        }
        int need, range;
        if (c <= 0x7F) {
            return LEAD;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            range = 0;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            range = c == 0xE0 ? 1 : c == 0xED ? 2 : 0;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            range = c == 0xF0 ? 3 : c == 0xF4 ? 4 : 0;
        } else {
            return -1; // 80-C1 and F5-FF never start a character
        }
        if (depth + 1 + need > MAX_KEY_BYTES) {
            return -1;
        }
        return 1 + (need - 1) * RANGES.length + range;
    }

    private IllegalArgumentException outside(int unit, byte[] path, int length) {
        return new IllegalArgumentException("sends the bytes " + hex(path, length) + " to unit " + unit + " of its "
                + units.length + ": the library indexes past its trie and aborts");
    }

    private static String hex(byte[] path, int length) {
        return HexFormat.ofDelimiter(" ").formatHex(path, 0, length);
    }

    // spm_precompiled's ArrayUnitTrait on a u32 unit held in a usize (64 bits): no sign extension

    private static boolean hasLeaf(int unit) {
        return ((unit >>> 8) & 1) == 1;
    }

    private static int value(int unit) {
        return unit & 0x7FFFFFFF;
    }

    private static int label(int unit) {
        return unit & (0x80000000 | 0xFF);
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }
}
