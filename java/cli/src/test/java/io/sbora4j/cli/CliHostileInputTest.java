package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.io.SafetensorsFile;
import io.sbora4j.io.SafetensorsWriter;
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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile files through the command line: each read as merge reads it (export included), refused with one line on
 * stderr and a non-zero exit, and a config whose limits are huge but valid runs at the cost of what it runs.
 */
class CliHostileInputTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final String Q = "model.layers.0.self_attn.q_proj";

    @TempDir
    static Path tmp;

    static Path base, adapter;

    @BeforeAll
    static void setUp() throws IOException {
        base = tmp.resolve("base");
        adapter = tmp.resolve("adapter");
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = LlamaModel.random(CFG, 1, Device.CPU, arena);
            ModelFiles.save(m, base);
            AdapterFiles.save(PeftModel.inject(m, AdapterConfig.of(AdapterMethods.SBORA_FA, 2, 4), arena), adapter);
        }
    }

    private static void assertOneLineError(CliRun.Result r, String... parts) {
        assertNotEquals(0, r.code(), r.out());
        assertEquals(1, r.err().strip().lines().count(), "one line on stderr:\n" + r.err());
        for (String p : parts) {
            assertTrue(r.err().contains(p), "'" + p + "' in: " + r.err());
        }
    }

    /** A copy of the adapter with one of its tensors replaced. */
    private static Path adapterWith(String name, String tensor, Tensor value) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Files.copy(adapter.resolve(AdapterFiles.CONFIG), dir.resolve(AdapterFiles.CONFIG));
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(adapter.resolve(AdapterFiles.WEIGHTS), arena);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String n : f.names()) {
                tensors.put(n, n.equals(tensor) ? value : f.tensor(n, arena, Device.CPU));
            }
            SafetensorsWriter.write(dir.resolve(AdapterFiles.WEIGHTS), tensors, f.metadata());
        }
        return dir;
    }

    private static void assertNothingExported(Path out) throws IOException {
        if (Files.exists(out)) {
            try (Stream<Path> s = Files.list(out)) {
                assertEquals(0, s.count(), "nothing exported");
            }
        }
    }

    @Test
    void exportRefusesWhatMergeRefuses() throws IOException {
        Path dup = adapterWith("dup", Q + ".idx", Tensor.ofInts(Device.CPU, new int[] {5, 5}, 2));
        Path neg = adapterWith("neg", Q + ".idx", Tensor.ofInts(Device.CPU, new int[] {-3, 5}, 2));
        Path far = adapterWith("far", Q + ".idx", Tensor.ofInts(Device.CPU, new int[] {0, 1 << 30}, 2));
        float[] nan = new float[64];
        nan[7] = Float.NaN;
        Path nanB = adapterWith("nan", Q + ".lora_B", Tensor.of(Device.CPU, nan, 32, 2));
        for (Path bad : new Path[] {dup, neg, far, nanB}) {
            Path out = tmp.resolve("out-" + bad.getFileName());
            assertOneLineError(
                    CliRun.run("export", "--adapter", bad.toString(), "--format", "peft", "--out", out.toString()),
                    "sbora export",
                    Q);
            assertNothingExported(out);
            assertOneLineError(
                    CliRun.run(
                            "merge",
                            "--model",
                            base.toString(),
                            "--adapter",
                            bad.toString(),
                            "--out",
                            tmp.resolve("merged-" + bad.getFileName()).toString()),
                    "sbora merge",
                    Q);
        }
    }

    @Test
    void exportChecksTheAdapterAgainstAModelWhenGivenOne() throws IOException {
        Path other = tmp.resolve("other-model");
        try (Arena arena = Arena.ofConfined()) {
            ModelFiles.save(
                    LlamaModel.random(
                            new LlamaConfig(259, 64, 64, 2, 4, 2, 1e-6, 10000, 64, false), 1, Device.CPU, arena),
                    other);
        }
        Path out = tmp.resolve("out-other");
        assertOneLineError(
                CliRun.run(
                        "export",
                        "--adapter",
                        adapter.toString(),
                        "--model",
                        other.toString(),
                        "--out",
                        out.toString()),
                Q,
                "64x64 in the model");
        assertNothingExported(out);
        CliRun.Result ok = CliRun.run(
                "export",
                "--adapter",
                adapter.toString(),
                "--model",
                base.toString(),
                "--out",
                tmp.resolve("out-ok").toString());
        assertEquals(0, ok.code(), ok.err());
    }

    /** config.json with the given key set to a raw JSON value. */
    private static Path modelWith(String name, String key, String value) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(base)) {
            for (Path f : files.sorted(Comparator.naturalOrder()).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Path cfg = dir.resolve(ModelFiles.CONFIG);
        String text = Files.readString(cfg);
        String replaced = text.replaceFirst("\"" + key + "\" : [^,\\n]+", "\"" + key + "\" : " + value);
        assertNotEquals(text, replaced, key);
        Files.writeString(cfg, replaced);
        return dir;
    }

    private static float[] forward(Path model, String name) throws IOException {
        Path out = tmp.resolve(name + ".safetensors");
        CliRun.Result r =
                CliRun.run("forward", "--model", model.toString(), "--tokens", "1 2 3", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        try (Arena arena = Arena.ofConfined()) {
            return SafetensorsFile.open(out, arena)
                    .tensor("logits", arena, Device.CPU)
                    .toFloatArray();
        }
    }

    @Test
    void theLargestPositionLimitRunsThreeTokensAsTheSmallestDoes() throws IOException {
        float[] logits = forward(base, "base");
        assertArrayEquals(logits, forward(modelWith("pos25", "max_position_embeddings", "33554432"), "pos25"));
        assertArrayEquals(logits, forward(modelWith("pos31", "max_position_embeddings", "2147483647"), "pos31"));
    }

    @Test
    void configValuesOutOfRangeAreNamed() throws IOException {
        String[][] cases = {
            {"max_position_embeddings", "2147483648", "max_position_embeddings"},
            {"max_position_embeddings", "0", "max_position_embeddings"},
            {"num_attention_heads", "5", "num_attention_heads 5 is not divisible by num_key_value_heads 2"},
            {"num_key_value_heads", "3", "num_attention_heads 4 is not divisible by num_key_value_heads 3"},
            {"vocab_size", "-1", "vocab_size"},
            {"rms_norm_eps", "0", "rms_norm_eps"},
            {"rope_theta", "-10000", "rope_theta"},
            {"hidden_size", "33.5", "hidden_size"},
            {"num_hidden_layers", "2147483647", "num_hidden_layers 2147483647"},
        };
        for (String[] c : cases) {
            Path m = modelWith("cfg-" + c[0] + c[1].replace('.', '_'), c[0], c[1]);
            CliRun.Result r = CliRun.run(
                    "forward",
                    "--model",
                    m.toString(),
                    "--tokens",
                    "1 2 3",
                    "--out",
                    tmp.resolve("x").toString());
            assertOneLineError(r, "sbora forward", c[2]);
        }
        CliRun.Result r = CliRun.run(
                "forward",
                "--model",
                base.toString(),
                "--tokens",
                "1 2 259",
                "--out",
                tmp.resolve("y").toString());
        assertOneLineError(r, "token id 259");
        assertFalse(Files.exists(tmp.resolve("y")));
    }
}
