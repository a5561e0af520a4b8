package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An adapter (weights, config, run record) and a model (weights, config) are each written as one unit: a disk that
 * fills up at any point of the save leaves the previous unit byte for byte, with one line of error and no temporary,
 * and the folder's other entries (checkpoints, a tokenizer) stay through a successful save.
 */
class UnitWritesTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);

    @TempDir
    Path root;

    /** Every file under {@code dir} with its content, and every entry beside it. */
    private static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                m.put(dir.relativize(p).toString(), HexFormat.of().formatHex(Files.readAllBytes(p)));
            }
        }
        try (Stream<Path> s = Files.list(dir.getParent())) {
            s.forEach(p -> m.put("../" + p.getFileName(), ""));
        }
        return m;
    }

    private static PeftModel<LlamaModel> adapter(double alpha, float fill, Arena arena) {
        var peft = PeftModel.inject(
                LlamaModel.random(CFG, 3, Device.CPU, arena), AdapterConfig.of(AdapterMethods.LORA, 2, alpha), arena);
        peft.adapted().values().forEach(a -> {
            for (Tensor t : a.trainable()) {
                float[] v = new float[(int) t.numel()];
                Arrays.fill(v, fill);
                t.copyFrom(v);
            }
        });
        return peft;
    }

    /** Offsets spread over a save of {@code bytes}, the first and the last byte included. */
    private static List<Long> offsets(long bytes) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            out.add(bytes * i / 10);
        }
        out.add(bytes - 1);
        return out;
    }

    @Test
    void aDiskFullDuringAnAdapterSaveLeavesThePreviousAdapterWhole() throws IOException {
        Path dir = root.resolve("adapter");
        try (Arena arena = Arena.ofConfined()) {
            AdapterFiles.save(adapter(4, 0.25f, arena), dir, "{\"run\": \"A\"}\n");
            AtomicFiles.writeString(dir.resolve("checkpoints").resolve("latest"), "checkpoint-3\n");
            Map<String, String> before = snapshot(dir);
            var b = adapter(8, 0.5f, arena);
            long bytes;
            try (DiskFull counting = DiskFull.counting()) {
                AdapterFiles.save(b, root.resolve("measure"), "{\"run\": \"B\"}\n");
                bytes = counting.written();
            }
            AtomicFiles.deleteDirectory(root.resolve("measure"));
            for (long k : offsets(bytes)) {
                try (DiskFull ignored = DiskFull.after(k)) {
                    IOException e =
                            assertThrows(IOException.class, () -> AdapterFiles.save(b, dir, "{\"run\": \"B\"}\n"));
                    assertTrue(e.getMessage().startsWith("No space left on device"), e.getMessage());
                    assertEquals(1, e.getMessage().lines().count());
                }
                assertEquals(before, snapshot(dir), "after " + k + " of " + bytes + " bytes");
            }
            AdapterFiles.save(b, dir, "{\"run\": \"B\"}\n");
            assertEquals("{\"run\": \"B\"}\n", AdapterFiles.readRunRecord(dir).orElseThrow());
            assertEquals(8.0, AdapterFiles.readConfig(dir).alpha());
            assertEquals(
                    "checkpoint-3\n",
                    Files.readString(dir.resolve("checkpoints").resolve("latest")));
            try (Arena read = Arena.ofConfined()) {
                SafetensorsFile f = SafetensorsFile.open(dir.resolve(AdapterFiles.WEIGHTS), read);
                String any = f.names().iterator().next();
                assertEquals(0.5f, f.tensor(any, read, Device.CPU).toFloatArray()[0]);
            }
            AdapterFiles.save(b, dir); // no run record: the old one goes with the unit
            assertTrue(AdapterFiles.readRunRecord(dir).isEmpty());
        }
    }

    @Test
    void aDiskFullDuringAModelSaveLeavesThePreviousModelWhole() throws IOException {
        Path dir = root.resolve("model");
        try (Arena arena = Arena.ofConfined()) {
            ModelFiles.save(LlamaModel.random(CFG, 1, Device.CPU, arena), dir);
            AtomicFiles.writeString(dir.resolve("tokenizer.json"), "{}");
            Map<String, String> before = snapshot(dir);
            LlamaModel other = LlamaModel.random(CFG, 2, Device.CPU, arena);
            long bytes;
            try (DiskFull counting = DiskFull.counting()) {
                ModelFiles.save(other, root.resolve("measure"));
                bytes = counting.written();
            }
            AtomicFiles.deleteDirectory(root.resolve("measure"));
            for (long k : offsets(bytes)) {
                try (DiskFull ignored = DiskFull.after(k)) {
                    IOException e = assertThrows(IOException.class, () -> ModelFiles.save(other, dir));
                    assertTrue(e.getMessage().startsWith("No space left on device"), e.getMessage());
                }
                assertEquals(before, snapshot(dir), "after " + k + " of " + bytes + " bytes");
            }
            ModelFiles.save(other, dir);
            assertEquals("{}", Files.readString(dir.resolve("tokenizer.json")));
            LlamaModel loaded = ModelFiles.load(dir, LoadOptions.on(Device.CPU), arena);
            String name = other.namedTensors().keySet().iterator().next();
            assertArrayEquals(
                    other.namedTensors().get(name).toFloatArray(),
                    loaded.namedTensors().get(name).toFloatArray());
        }
    }

    /**
     * A crash between the two renames of a save leaves no unit in place and the old one aside; the commands that only
     * read (eval, generate, merge's input) find it there without writing, so they work on a read-only copy too.
     */
    @Test
    void aSaveInterruptedBetweenItsRenamesIsReadFromTheOldUnitWithoutWriting() throws IOException {
        Path adapterDir = root.resolve("adapter");
        Path modelDir = root.resolve("model");
        try (Arena arena = Arena.ofConfined()) {
            AdapterFiles.save(adapter(4, 0.25f, arena), adapterDir, "{\"run\": \"A\"}\n");
            ModelFiles.save(LlamaModel.random(CFG, 1, Device.CPU, arena), modelDir);
            float[] embed = ModelFiles.load(modelDir, LoadOptions.on(Device.CPU), arena)
                    .namedTensors()
                    .get("model.embed_tokens.weight")
                    .toFloatArray();
            Files.move(adapterDir, root.resolve(".adapter.old")); // the first rename of a save, then the crash
            Files.move(modelDir, root.resolve(".model.old"));
            Map<String, String> before = snapshot(root.resolve(".adapter.old"));

            assertEquals(4.0, AdapterFiles.readConfig(adapterDir).alpha());
            assertEquals(
                    "{\"run\": \"A\"}\n", AdapterFiles.readRunRecord(adapterDir).orElseThrow());
            LlamaModel model = ModelFiles.load(modelDir, LoadOptions.on(Device.CPU), arena);
            assertArrayEquals(
                    embed, model.namedTensors().get("model.embed_tokens.weight").toFloatArray());
            var peft = AdapterFiles.load(adapterDir, model, arena);
            assertEquals(4.0, peft.config().alpha());
            assertTrue(Files.notExists(adapterDir) && Files.notExists(modelDir), "reading wrote nothing");
            assertEquals(before, snapshot(root.resolve(".adapter.old")));

            AdapterFiles.recover(adapterDir); // what the next write does first: the old unit goes back in place
            assertEquals(4.0, AdapterFiles.readConfig(adapterDir).alpha());
            assertTrue(Files.notExists(root.resolve(".adapter.old")));
        }
    }
}
