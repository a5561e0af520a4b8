package io.sbora4j.hf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code precompiled_charsmap} blobs for tests: small ones built from rules the way SentencePiece lays them out (a
 * double array in blocks of 256 units, then the NUL-terminated normalized strings; the format spm_precompiled's
 * {@code parse} reads), and the real {@code nmt_nfkc} map T5, mT5, XLM-RoBERTa and ALBERT publish (from
 * spm_precompiled, Apache-2.0: {@code src/nmt_nfkc.bin}, the blob their tokenizer.json files hold in base64).
 */
final class CharsmapBuilder {

    private CharsmapBuilder() {}

    /** The real nmt_nfkc map, in base64 as tokenizer.json holds it. */
    static String nmtNfkc() {
        try (InputStream in = CharsmapBuilder.class.getResourceAsStream("/tokenizers/nmt_nfkc.bin")) {
            return Base64.getEncoder().encodeToString(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A tokenizer.json fixture of the test resources, its {@code "@nmt_nfkc"} replaced by the real map. */
    static String fixture(String name) {
        try (InputStream in = CharsmapBuilder.class.getResourceAsStream("/tokenizers/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("@nmt_nfkc", nmtNfkc());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The map that rewrites each key of {@code rules} (a string of at most 5 UTF-8 bytes) to its value. */
    static byte[] build(Map<String, String> rules) {
        Node root = new Node();
        ByteArrayOutputStream normalized = new ByteArrayOutputStream();
        for (Map.Entry<String, String> r : rules.entrySet()) {
            Node n = root;
            for (byte b : r.getKey().getBytes(StandardCharsets.UTF_8)) {
                n = n.children.computeIfAbsent(b & 0xFF, k -> new Node());
            }
            n.value = normalized.size();
            normalized.writeBytes(r.getValue().getBytes(StandardCharsets.UTF_8));
            normalized.write(0);
        }
        Units units = new Units();
        units.get(0); // the root's own unit, in block 0
        place(root, 0, units);
        int[] u = Arrays.copyOf(units.a, units.size);
        byte[] tail = normalized.toByteArray();
        ByteBuffer out = ByteBuffer.allocate(4 + 4 * u.length + tail.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(4 * u.length);
        for (int x : u) {
            out.putInt(x);
        }
        out.put(tail);
        return out.array();
    }

    /** {@link #build}, in base64. */
    static String base64(Map<String, String> rules) {
        return Base64.getEncoder().encodeToString(build(rules));
    }

    /** The node at {@code pos}: a block of its own for its children and its value (at offset 0 of the block). */
    private static void place(Node n, int pos, Units units) {
        if (n.children.isEmpty() && n.value < 0) {
            return;
        }
        int base = units.block();
        int off = pos ^ base;
        if (off >= 1 << 21) {
            throw new IllegalStateException("too many rules for this builder");
        }
        units.set(pos, units.get(pos) | (off << 10));
        if (n.value >= 0) {
            units.set(base, 0x80000000 | n.value); // a leaf unit: its flag bit (never a label) and the value
        }
        for (Map.Entry<Integer, Node> c : n.children.entrySet()) {
            int at = base ^ c.getKey();
            units.set(at, c.getKey() | (c.getValue().value >= 0 ? 1 << 8 : 0));
            place(c.getValue(), at, units);
        }
    }

    private static final class Node {
        final TreeMap<Integer, Node> children = new TreeMap<>();
        int value = -1;
    }

    private static final class Units {
        int[] a = new int[1024];
        int size = 256;

        int block() {
            int base = size;
            size += 256;
            if (size > a.length) {
                a = Arrays.copyOf(a, 2 * size);
            }
            return base;
        }

        int get(int i) {
            return a[i];
        }

        void set(int i, int v) {
            a[i] = v;
        }
    }
}
