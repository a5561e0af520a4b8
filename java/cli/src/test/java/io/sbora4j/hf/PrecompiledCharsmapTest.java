package io.sbora4j.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reading of a precompiled_charsmap, against what spm_precompiled 0.1.4 does with the same bytes. */
class PrecompiledCharsmapTest {

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private static byte[] blob(int trieBytes, int[] units, byte[] normalized) {
        ByteBuffer b =
                ByteBuffer.allocate(4 + 4 * units.length + normalized.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(trieBytes);
        for (int u : units) {
            b.putInt(u);
        }
        return b.put(normalized).array();
    }

    private static String refused(String base64) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> PrecompiledCharsmap.read(base64));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        return e.getMessage();
    }

    @Test
    void theRealNmtNfkcMapIsTaken() {
        long t0 = System.nanoTime();
        PrecompiledCharsmap m = PrecompiledCharsmap.read(CharsmapBuilder.nmtNfkc());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(44288, m.size()); // spm_precompiled's nmt_nfkc.bin: a trie of 177,152 bytes
        assertNull(m.transform('a')); // ASCII letters are left alone
        assertTrue(ms < 5_000, ms + " ms");
    }

    @Test
    void builtMapsAreTakenAndLookedUp() {
        PrecompiledCharsmap m = PrecompiledCharsmap.read(CharsmapBuilder.base64(Map.of("A", "a", "B", "", "é", "e")));
        assertEquals("a", m.transform('A'));
        assertEquals("", m.transform('B'));
        assertNull(m.transform('C'));
    }

    @Test
    void whatTheLibraryCannotParseIsRefused() {
        assertTrue(refused("").contains("0 bytes"));
        assertTrue(refused("AAAA").contains("3 bytes"));
        assertTrue(refused("not base64!").contains("not base64"));
        // what Java's decoder takes and base64 0.13.1 may not: no padding, stray bits in the last character
        assertTrue(refused("AAAAAA").contains("canonical"));
        assertTrue(refused("AAAAAB==").contains("canonical"));
        assertTrue(refused(CharsmapBuilder.base64(Map.of("a", "b")) + "\n").contains("base64"));
        // a trie size past the bytes there are: nom's le_u32 runs out
        assertTrue(refused(b64(blob(8, new int[] {0}, new byte[0]))).contains("trie of 8 bytes"));
        assertTrue(refused(b64(blob(-4, new int[] {0}, new byte[0]))).contains("4294967292"));
        // normalized strings that are not UTF-8, as String::from_utf8 has it: a lone surrogate, an overlong form
        assertTrue(refused(b64(blob(4, new int[] {0}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})))
                .contains("UTF-8"));
        assertTrue(refused(b64(blob(4, new int[] {0}, new byte[] {(byte) 0xC0, (byte) 0x80})))
                .contains("UTF-8"));
        // no units: array[0] is read for every text
        assertTrue(refused(b64(blob(0, new int[0], new byte[0]))).contains("empty trie"));
        // a size that is not a multiple of 4 is read down to one (trie_size / 4), the rest being normalized text
        PrecompiledCharsmap.read(b64(blob(4 * 256 + 3, new int[256], "abc".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void lookupsOutsideTheMapAreRefused() {
        // one unit, offset 0: the first byte of any text is looked up at unit 0 ^ byte
        assertTrue(refused(b64(blob(4, new int[] {0}, new byte[0]))).contains("to unit 1 of its 1"));
        byte[] map = CharsmapBuilder.build(Map.of("ab", "x"));
        ByteBuffer b = ByteBuffer.wrap(map).order(ByteOrder.LITTLE_ENDIAN);
        int units = b.getInt(0) / 4;
        // the leaf of "ab": its value past the strings ("x\0": 2 bytes), at their end (an empty string), inside
        for (int[] v : new int[][] {{3, 1}, {2, 0}, {1, 0}}) {
            byte[] copy = map.clone();
            ByteBuffer c = ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < units; i++) {
                if (c.getInt(4 + 4 * i) == 0x80000000) {
                    c.putInt(4 + 4 * i, 0x80000000 | v[0]);
                }
            }
            if (v[1] == 1) {
                assertTrue(refused(b64(copy)).contains("past the end"));
            } else {
                PrecompiledCharsmap.read(b64(copy)); // offsets 1 ("\0") and 2 (the end) slice to ""
            }
        }
        // a normalized string starting inside a character
        byte[] multi = CharsmapBuilder.build(Map.of("a", "é"));
        ByteBuffer m = ByteBuffer.wrap(multi).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < m.getInt(0) / 4; i++) {
            if (m.getInt(4 + 4 * i) == 0x80000000) {
                m.putInt(4 + 4 * i, 0x80000001);
            }
        }
        assertTrue(refused(b64(multi)).contains("inside a character"));
        // a rewrite of over a kilobyte: every such character of a text would grow a thousandfold
        PrecompiledCharsmap.read(
                CharsmapBuilder.base64(Map.of("a", "b".repeat(PrecompiledCharsmap.MAX_REWRITE_BYTES))));
        assertTrue(refused(CharsmapBuilder.base64(Map.of("a", "b".repeat(PrecompiledCharsmap.MAX_REWRITE_BYTES + 1))))
                .contains("more than 1024 bytes"));
        // a child block cut off: the key "ab" leads into units that are not there
        byte[] cut = CharsmapBuilder.build(Map.of("ab", "x"));
        ByteBuffer k = ByteBuffer.wrap(cut).order(ByteOrder.LITTLE_ENDIAN);
        int n = k.getInt(0) / 4;
        k.putInt(0, 4 * (n - 256));
        byte[] shorter = new byte[4 + 4 * (n - 256) + 2];
        System.arraycopy(cut, 0, shorter, 0, 4 + 4 * (n - 256));
        System.arraycopy(cut, 4 + 4 * n, shorter, 4 + 4 * (n - 256), 2);
        assertTrue(refused(b64(shorter)).contains("past its trie"));
    }
}
