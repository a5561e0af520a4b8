package io.sbora4j.io;

import static io.sbora4j.io.SafetensorsFileTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sbora4j.io.SafetensorsWriter.FloatFormat;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model directories: sharding on write, routing on read, and an index that disagrees with its shards. */
class ShardedSafetensorsTest {

    @TempDir
    Path dir;

    /** Five tensors of 16, 16, 40, 8 and 16 bytes. */
    private static Map<String, Tensor> model(Arena a) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("embed", Tensor.of(a, Device.CPU, new float[] {1, 2, 3, 4}, 2, 2));
        m.put("layers.0.q", Tensor.of(a, Device.CPU, new float[] {5, 6, 7, 8}, 4));
        m.put("layers.0.big", Tensor.of(a, Device.CPU, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 10));
        m.put("idx", Tensor.ofInts(a, Device.CPU, new int[] {3, 1}, 2));
        m.put("norm", Tensor.of(a, Device.CPU, new float[] {-1, -2, -3, -4}, 4));
        return m;
    }

    private List<String> files() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void shardsRoundTripThroughTheIndex() throws Exception {
        try (Arena a = Arena.ofConfined()) {
            Map<String, Tensor> in = model(a);
            // 32 bytes a shard: [embed, q] [big (oversize, alone)] [idx, norm]
            List<Path> written = ShardedSafetensorsWriter.write(dir, in, Map.of("format", "pt"), 32);
            assertEquals(
                    List.of(
                            "model-00001-of-00003.safetensors",
                            "model-00002-of-00003.safetensors",
                            "model-00003-of-00003.safetensors",
                            ShardedSafetensors.INDEX_FILE),
                    files());
            assertEquals(dir.resolve(ShardedSafetensors.INDEX_FILE), written.getLast());
            JsonNode index = StrictJson.parse(Files.readString(dir.resolve(ShardedSafetensors.INDEX_FILE)));
            assertEquals(
                    16 + 16 + 40 + 8 + 16,
                    index.get("metadata").get("total_size").longValue());
            assertEquals(
                    "model-00002-of-00003.safetensors",
                    index.get("weight_map").get("layers.0.big").textValue());

            ShardedSafetensors st = ShardedSafetensors.open(dir, a);
            assertEquals(List.copyOf(in.keySet()), List.copyOf(st.names()));
            assertEquals(3, st.shards().size());
            assertEquals(
                    "model-00003-of-00003.safetensors",
                    st.shardOf("norm").path().getFileName().toString());
            assertEquals(Map.of("format", "pt"), st.shardOf("idx").metadata());
            assertArrayEquals(new int[] {10}, st.info("layers.0.big").shape());
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                Tensor t = st.tensor(e.getKey(), a, Device.CPU);
                assertEquals(e.getValue().shape(), t.shape(), e.getKey());
                assertEquals(e.getValue().dtype(), t.dtype(), e.getKey());
                assertEquals(-1, e.getValue().data().mismatch(t.data()), e.getKey() + ": same bytes");
            }
            assertThrows(IllegalArgumentException.class, () -> st.info("missing"));
        }
    }

    @Test
    void everythingInOneShardIsASingleFileAndReplacesAShardedSave() throws Exception {
        try (Arena a = Arena.ofConfined()) {
            ShardedSafetensorsWriter.write(dir, model(a), null, 32);
            Files.writeString(dir.resolve("config.json"), "{}");
            ShardedSafetensorsWriter.write(dir, model(a), null, 1 << 20, FloatFormat.BF16);
            // The old index and shards are gone, other files untouched.
            assertEquals(List.of("config.json", ShardedSafetensors.SINGLE_FILE), files());
            ShardedSafetensors st = ShardedSafetensors.open(dir, a);
            assertEquals(1, st.shards().size());
            assertEquals("BF16", st.info("embed").dtype());
            assertArrayEquals(
                    new float[] {1, 2, 3, 4}, st.tensor("embed", a, Device.CPU).toFloatArray(), 0f);
            // A single file can also be opened directly.
            assertEquals(
                    st.names(),
                    ShardedSafetensors.open(dir.resolve(ShardedSafetensors.SINGLE_FILE), a)
                            .names());
        }
    }

    @Test
    void aShardedSaveRemovesAStaleSingleFileThatReadersWouldPrefer() throws Exception {
        try (Arena a = Arena.ofConfined()) {
            ShardedSafetensorsWriter.write(
                    dir, Map.of("old", Tensor.of(a, Device.CPU, new float[] {9}, 1)), null, 1 << 20);
            ShardedSafetensorsWriter.write(dir, model(a), null, 32);
            assertFalse(Files.exists(dir.resolve(ShardedSafetensors.SINGLE_FILE)));
            ShardedSafetensors st = ShardedSafetensors.open(dir, a);
            assertFalse(st.contains("old"));
            assertTrue(st.contains("layers.0.big"));
            // Fewer shards than before: the surplus shard files of the earlier save go too.
            ShardedSafetensorsWriter.write(dir, model(a), null, 72);
            assertEquals(
                    List.of(
                            "model-00001-of-00002.safetensors",
                            "model-00002-of-00002.safetensors",
                            ShardedSafetensors.INDEX_FILE),
                    files());
        }
    }

    @Test
    void indexNamingAMissingShard() throws Exception {
        Path index = writeIndex("{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\"}}");
        rejects(index, "tensor 'a'", "model-00001-of-00002.safetensors", "does not exist");
    }

    @Test
    void indexNamingATensorItsShardLacks() throws Exception {
        try (Arena a = Arena.ofConfined()) {
            SafetensorsWriter.write(
                    dir.resolve("s1.safetensors"), Map.of("a", Tensor.of(a, Device.CPU, new float[] {1}, 1)), null);
        }
        Path index = writeIndex("{\"metadata\":{},\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\"}}");
        rejects(index, "tensor 'b'", "s1.safetensors", "does not contain it");
    }

    @Test
    void indexReachingOutsideItsDirectory() throws Exception {
        Path index = writeIndex("{\"weight_map\":{\"a\":\"../elsewhere.safetensors\"}}");
        rejects(index, "'../elsewhere.safetensors'", "not a file name");
        writeIndex("{\"weight_map\":{\"a\":\"/etc/passwd\"}}");
        rejects(index, "not a file name");
    }

    @Test
    void malformedIndex() throws Exception {
        rejects(writeIndex("{\"metadata\":{}}"), "no \"weight_map\"");
        rejects(writeIndex("{\"weight_map\":{\"a\":1}}"), "'a'", "file name string");
        rejects(writeIndex("{\"weight_map\":{\"a\":\"x\",\"a\":\"y\"}}"), "not valid JSON", "Duplicate");
        rejects(writeIndex("nope"), "not valid JSON");
        rejects(writeIndex("[]"), "not a JSON object");
    }

    @Test
    void directoryWithoutWeights() {
        try (Arena a = Arena.ofConfined()) {
            NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ShardedSafetensors.open(dir, a));
            assertTrue(e.getMessage().contains(ShardedSafetensors.INDEX_FILE), e.getMessage());
        }
    }

    @Test
    void shardPlanPacksInOrder() {
        try (Arena a = Arena.ofConfined()) {
            List<Map<String, Tensor>> plan = ShardedSafetensorsWriter.plan(model(a), 40, FloatFormat.F32);
            assertEquals(
                    List.of(List.of("embed", "layers.0.q"), List.of("layers.0.big"), List.of("idx", "norm")),
                    plan.stream().map(m -> List.copyOf(m.keySet())).toList());
            assertEquals(
                    1,
                    ShardedSafetensorsWriter.plan(model(a), 1000, FloatFormat.F32)
                            .size());
            assertTrue(
                    ShardedSafetensorsWriter.plan(Map.of(), 10, FloatFormat.F32).isEmpty());
            assertThrows(IllegalArgumentException.class, () -> ShardedSafetensorsWriter.write(dir, model(a), null, 0));
        }
    }

    private Path writeIndex(String json) throws Exception {
        Path p = dir.resolve(ShardedSafetensors.INDEX_FILE);
        Files.writeString(p, json);
        return p;
    }

    private void rejects(Path index, String... parts) {
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFormatException e =
                    assertThrows(SafetensorsFormatException.class, () -> ShardedSafetensors.open(dir, a));
            assertMessage(e, index, parts);
        }
    }
}
