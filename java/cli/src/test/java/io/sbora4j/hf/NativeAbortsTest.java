package io.sbora4j.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.sbora4j.testing.ChildJvm;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the checks still refuse does abort the native library: each file is handed to it unchecked in a child JVM
 * ({@link Unchecked}), which dies of the panic (SIGABRT, after Rust's "panicked at" line), while the same file is
 * refused in this JVM with one line. The accepted neighbours of each (stop 0, a Strip heading the chain, a well
 * formed map) run to the end in the child.
 */
class NativeAbortsTest {

    private static final String WORD_LEVEL = """
            {"added_tokens": [{"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false,
                               "normalized": false, "special": true},
                              {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false,
                               "normalized": false, "special": true},
                              {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false,
                               "normalized": false, "special": true}],
             "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "decoder": null,
             "model": {"type": "WordLevel", "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "a": 3, "b": 4, "?": 5},
                       "unk_token": "<unk>"}}
            """;

    @TempDir
    Path dir;

    /** Loads a tokenizer.json without the checks, then encodes args[1] or decodes the ids in args[2..]. */
    public static final class Unchecked {
        public static void main(String[] args) throws Exception {
            byte[] json = Files.readAllBytes(Path.of(args[0]));
            try (HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(json), Map.of("addSpecialTokens", "false"))) {
                System.out.println("loaded");
                if (args[1].equals("encode")) {
                    System.out.println(Arrays.toString(t.encode(args[2]).getIds()));
                } else {
                    long[] ids = Arrays.stream(args)
                            .skip(2)
                            .mapToLong(Long::parseLong)
                            .toArray();
                    System.out.println("[" + t.decode(ids, true) + "]");
                }
            }
            System.out.println("done");
        }
    }

    private record Run(int code, String out) {}

    private Run unchecked(String json, String... op) throws Exception {
        Path f = Files.createTempFile(dir, "tokenizer", ".json");
        Files.writeString(f, json);
        List<String> args = new ArrayList<>(List.of(f.toString()));
        args.addAll(List.of(op));
        List<String> cmd = ChildJvm.command(
                List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xshare:auto"),
                Unchecked.class.getName(),
                args);
        Path log = dir.resolve("log");
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("the child took over 120 s: " + Files.readString(log));
        }
        return new Run(p.exitValue(), Files.readString(log));
    }

    /** The child aborts (a signal, not an exception) on {@code json}, and this JVM refuses it, naming {@code why}. */
    private void aborts(String json, String why, String... op) throws Exception {
        Run r = unchecked(json, op);
        assertNotEquals(0, r.code(), r.out());
        assertTrue(r.code() > 128, "killed by a signal, not an exception: " + r.code() + "\n" + r.out());
        assertTrue(r.out().contains("panicked"), r.out());
        System.out.println("native abort (exit " + r.code() + "): "
                + r.out()
                        .lines()
                        .filter(l -> l.contains("panicked") || l.contains("index"))
                        .findFirst()
                        .orElse("")
                        .strip());
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, json);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(why), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    private void runs(String json, String expected, String... op) throws Exception {
        Run r = unchecked(json, op);
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains(expected + "\ndone"), r.out());
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, json);
        HfTokenizer.load(f).close();
    }

    private static String normalizer(String charsmap) {
        return WORD_LEVEL.replace(
                "\"normalizer\": null",
                "\"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"" + charsmap + "\"}");
    }

    private static String decoder(String decoder) {
        return WORD_LEVEL.replace("\"decoder\": null", "\"decoder\": " + decoder);
    }

    @Test
    void precompiledMaps() throws Exception {
        String valid = CharsmapBuilder.base64(Map.of("A", "a", "\uFF41", "a"));
        runs(normalizer(valid), "[3, 3, 0]", "encode", "A \uFF41 \uFF42"); // "ｂ" has no rule: unknown
        // not a map at all: .expect("Precompiled") while loading
        aborts(normalizer("AAAA"), "too short", "encode", "a");
        // a trie of one unit: the first byte of a text is looked up past its end
        aborts(normalizer("BAAAAAAAAAA="), "past its trie", "encode", "a");
        // a rule whose normalized string starts past the end of the strings: sliced out of range
        byte[] map = CharsmapBuilder.build(Map.of("a", "b"));
        int units = ByteBuffer.wrap(map).order(ByteOrder.LITTLE_ENDIAN).getInt(0) / 4;
        ByteBuffer b = ByteBuffer.wrap(map).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < units; i++) {
            if (b.getInt(4 + 4 * i) == 0x80000000) { // the leaf of "a": value 0
                b.putInt(4 + 4 * i, 0x80000000 | 1000);
            }
        }
        aborts(normalizer(Base64.getEncoder().encodeToString(map)), "past the end", "encode", "a");
    }

    @Test
    void stripStops() throws Exception {
        // as published: stop 0
        runs(decoder("{\"type\": \"Strip\", \"content\": \"?\", \"start\": 1, \"stop\": 0}"), "[]", "decode", "5");
        // heading the chain, no token only of "x": any stop
        runs(
                decoder("{\"type\": \"Strip\", \"content\": \"x\", \"start\": 1, \"stop\": 9}"),
                "[ab]",
                "decode",
                "3",
                "4");
        // the token "?" cut from both ends: the cuts cross
        aborts(decoder("{\"type\": \"Strip\", \"content\": \"?\", \"start\": 1, \"stop\": 1}"), "\"?\"", "decode", "5");
        // after Fuse, which hands it "" for no ids: indexed below 0
        aborts(
                decoder("{\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Fuse\"}, {\"type\": \"Strip\","
                        + " \"content\": \"x\", \"start\": 0, \"stop\": 1}]}"),
                "after another decoder",
                "decode");
    }
}
