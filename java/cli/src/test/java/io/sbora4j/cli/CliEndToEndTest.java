package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.demo.LlamaDemo;
import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.LoadOptions;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.io.SafetensorsFile;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line end to end on a tiny model: finetune, eval, merge, export, forward and demo, and the one-line
 * errors of bad input.
 */
class CliEndToEndTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final int R = 2;

    @TempDir
    static Path tmp;

    static Path base, data, adapter;
    static Result finetune;

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        CliRun.Result r = CliRun.run(args);
        return new Result(r.code(), r.out(), r.err());
    }

    @BeforeAll
    static void setUp() throws IOException {
        base = tmp.resolve("base");
        try (Arena arena = Arena.ofConfined()) {
            ModelFiles.save(LlamaModel.random(CFG, 1, Device.CPU, arena), base);
        }
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            int a = i % 4, b = i / 4;
            jsonl.append("{\"instruction\": \"What is ")
                    .append(a)
                    .append(" + ")
                    .append(b)
                    .append("?\", \"output\": \"")
                    .append(a + b)
                    .append("\"}\n");
        }
        data = Files.writeString(tmp.resolve("sums.jsonl"), jsonl);
        adapter = tmp.resolve("adapter");
        finetune = run(finetuneArgs(adapter));
    }

    /** The arguments of the reference run: SBoRA-FA, 3 steps of 2 sequences of 64 bytes, then {@code extra}. */
    static String[] finetuneArgs(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "finetune",
                "--model",
                base.toString(),
                "--data",
                data.toString(),
                "--method",
                "sbora-fa",
                "--r",
                Integer.toString(R),
                "--alpha",
                "4",
                "--steps",
                "3",
                "--batch",
                "2",
                "--seq-len",
                "64",
                "--template",
                "plain",
                "--lr",
                "1e-2",
                "--tokenizer",
                "byte",
                "--out",
                out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    private static float[] logits(Path modelDir, int... ids) throws IOException {
        try (Arena arena = Arena.ofConfined();
                NoGrad ignored = NoGrad.enter()) {
            LlamaModel m = ModelFiles.load(modelDir, LoadOptions.on(Device.CPU), arena);
            return m.logits(Tensor.ofInts(Device.CPU, ids, 1, ids.length)).toFloatArray();
        }
    }

    /** Exit code not 0, and exactly one line on stderr that contains every one of {@code parts}. */
    private static void assertOneLineError(Result r, String... parts) {
        assertNotEquals(0, r.code(), r.out());
        assertEquals(1, r.err().strip().lines().count(), "one line on stderr:\n" + r.err());
        for (String p : parts) {
            assertTrue(r.err().contains(p), "'" + p + "' in: " + r.err());
        }
    }

    @Test
    void finetuneWritesTheAdapterAndCheckpoints() {
        assertEquals(0, finetune.code(), finetune.err());
        assertTrue(finetune.out().contains("trainable params"), finetune.out());
        assertTrue(finetune.out().contains("final loss"), finetune.out());
        assertTrue(finetune.out().contains("peak step memory"), finetune.out());
        assertTrue(Files.isRegularFile(adapter.resolve(AdapterFiles.CONFIG)));
        assertTrue(Files.isRegularFile(adapter.resolve(AdapterFiles.WEIGHTS)));
        assertTrue(Files.isRegularFile(adapter.resolve("checkpoints").resolve("latest")));
        assertTrue(Files.isDirectory(adapter.resolve("checkpoints").resolve("checkpoint-3")));
    }

    @Test
    void evalWithTheAdapterPrintsAccuracy() {
        Result r = run(
                "eval",
                "--model",
                base.toString(),
                "--adapter",
                adapter.toString(),
                "--data",
                data.toString(),
                "--template",
                "plain",
                "--max-new-tokens",
                "3",
                "--limit",
                "3",
                "--tokenizer",
                "byte");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("accuracy "), r.out());
        assertTrue(r.out().contains("/3 = "), r.out());
        assertEquals("", r.err());
    }

    @Test
    void mergeChangesOnlyTheAdaptersColumnsAndLeavesTheBaseFiles() throws IOException {
        Path merged = tmp.resolve("merged");
        Path baseWeights = base.resolve("model.safetensors");
        byte[] before = Files.readAllBytes(baseWeights);
        Result r =
                run("merge", "--model", base.toString(), "--adapter", adapter.toString(), "--out", merged.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(before, Files.readAllBytes(baseWeights), "the base model's file is untouched");
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel b = ModelFiles.load(base, LoadOptions.on(Device.CPU), arena);
            LlamaModel m = ModelFiles.load(merged, LoadOptions.on(Device.CPU), arena);
            SafetensorsFile adapterFile = SafetensorsFile.open(adapter.resolve(AdapterFiles.WEIGHTS), arena);
            assertEquals(b.namedTensors().keySet(), m.namedTensors().keySet());
            long changedLayers = 0;
            for (var e : b.namedTensors().entrySet()) {
                float[] x = e.getValue().toFloatArray(),
                        y = m.namedTensors().get(e.getKey()).toFloatArray();
                String layer = e.getKey().substring(0, e.getKey().length() - ".weight".length());
                if (!adapterFile.contains(layer + ".idx")) {
                    for (int i = 0; i < x.length; i++) {
                        assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), e.getKey());
                    }
                    continue;
                }
                Set<Integer> idx = new HashSet<>();
                for (int c :
                        adapterFile.tensor(layer + ".idx", arena, Device.CPU).toIntArray()) {
                    idx.add(c);
                }
                assertEquals(R, idx.size());
                int cols = e.getValue().dim(1);
                Set<Integer> changedCols = new HashSet<>();
                for (int i = 0; i < x.length; i++) {
                    if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
                        changedCols.add(i % cols);
                    }
                }
                assertTrue(idx.containsAll(changedCols), e.getKey() + ": changed " + changedCols + ", idx " + idx);
                changedLayers += changedCols.isEmpty() ? 0 : 1;
            }
            assertEquals(7 * CFG.layers(), changedLayers, "every adapted weight changed in its r columns");
        }
        assertTrue(r.out().contains("merged sbora-fa into 14 layers"), r.out());
    }

    @Test
    void mergeRefusesToOverwriteTheBase() {
        assertOneLineError(
                run("merge", "--model", base.toString(), "--adapter", adapter.toString(), "--out", base.toString()),
                "--out must differ");
    }

    @Test
    void exportWritesAPeftAdapter() throws IOException {
        Path out = tmp.resolve("peft");
        Result r = run("export", "--adapter", adapter.toString(), "--format", "peft", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(out.resolve(AdapterFiles.WEIGHTS)));
        assertTrue(Files.readString(out.resolve(AdapterFiles.CONFIG)).contains("\"peft_type\" : \"LORA\""));
        assertOneLineError(
                run("export", "--adapter", adapter.toString(), "--format", "gguf", "--out", out.toString()),
                "unknown format 'gguf'");
    }

    @Test
    void forwardWritesTheLogitsAsOneTensor() throws IOException {
        Path out = tmp.resolve("logits.safetensors");
        Result r = run("forward", "--model", base.toString(), "--tokens", "1 2 3", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(out, arena);
            assertEquals(Set.of("logits"), f.names());
            Tensor t = f.tensor("logits", arena, Device.CPU);
            assertArrayEquals(new int[] {3, CFG.vocabSize()}, t.shape().dims());
            assertArrayEquals(logits(base, 1, 2, 3), t.toFloatArray());
        }
        Path withAdapter = tmp.resolve("logits-adapted.safetensors");
        assertEquals(
                0,
                run(
                                "forward",
                                "--model",
                                base.toString(),
                                "--adapter",
                                adapter.toString(),
                                "--tokens",
                                "1,2,3",
                                "--out",
                                withAdapter.toString())
                        .code());
        try (Arena arena = Arena.ofConfined()) {
            float[] adapted = SafetensorsFile.open(withAdapter, arena)
                    .tensor("logits", arena, Device.CPU)
                    .toFloatArray();
            assertFalse(Arrays.equals(logits(base, 1, 2, 3), adapted), "the adapter changes the logits");
        }
    }

    @Test
    void aMissingModelDirectoryIsOneLine() {
        Path missing = tmp.resolve("no-such-model");
        assertOneLineError(
                run(
                        "finetune",
                        "--model",
                        missing.toString(),
                        "--data",
                        data.toString(),
                        "--method",
                        "lora",
                        "--r",
                        "2",
                        "--alpha",
                        "4",
                        "--steps",
                        "1",
                        "--out",
                        tmp.resolve("x").toString()),
                missing.toString());
        assertOneLineError(run("eval", "--model", missing.toString(), "--data", data.toString()), missing.toString());
        assertOneLineError(
                run(
                        "forward",
                        "--model",
                        missing.toString(),
                        "--tokens",
                        "1",
                        "--out",
                        tmp.resolve("y.safetensors").toString()),
                missing.toString());
    }

    /** The same run with each decoder layer checkpointed: the same losses (to rounding), printed the same way. */
    @Test
    void checkpointedActivationsTrainTheSame() {
        Result r = run(finetuneArgs(tmp.resolve("checkpointed"), "--checkpoint-activations"));
        assertEquals(0, r.code(), r.err());
        assertEquals(finalLoss(finetune.out()), finalLoss(r.out()), 1e-3, r.out());
    }

    private static double finalLoss(String out) {
        int i = out.indexOf("final loss ") + "final loss ".length();
        return Double.parseDouble(out.substring(i, out.indexOf(',', i)));
    }

    @Test
    void checkpointingRefusesDropoutInOneLine() {
        assertOneLineError(
                run(
                        "finetune",
                        "--model",
                        base.toString(),
                        "--data",
                        data.toString(),
                        "--method",
                        "sbora-fa",
                        "--r",
                        "2",
                        "--alpha",
                        "4",
                        "--steps",
                        "1",
                        "--dropout",
                        "0.1",
                        "--checkpoint-activations",
                        "--out",
                        tmp.resolve("y").toString()),
                "--checkpoint-activations needs --dropout 0");
    }

    @Test
    void anUnknownMethodIsOneLine() {
        assertOneLineError(
                run(
                        "finetune",
                        "--model",
                        base.toString(),
                        "--data",
                        data.toString(),
                        "--method",
                        "qlora",
                        "--r",
                        "2",
                        "--alpha",
                        "4",
                        "--steps",
                        "1",
                        "--out",
                        tmp.resolve("x").toString()),
                "unknown adapter method 'qlora'");
    }

    @Test
    void aMalformedDataFileIsOneLineNamingFileAndLine() throws IOException {
        Path bad = Files.writeString(
                tmp.resolve("bad.jsonl"), "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": \"a\"\n");
        assertOneLineError(
                run(
                        "finetune",
                        "--model",
                        base.toString(),
                        "--data",
                        bad.toString(),
                        "--method",
                        "lora",
                        "--r",
                        "2",
                        "--alpha",
                        "4",
                        "--steps",
                        "1",
                        "--out",
                        tmp.resolve("x").toString()),
                bad.toString(),
                "line 2");
    }

    @Test
    void badTokensAreOneLine() {
        String out = tmp.resolve("z.safetensors").toString();
        assertOneLineError(
                run("forward", "--model", base.toString(), "--tokens", "1 x", "--out", out), "'x' is not a token id");
        assertOneLineError(
                run("forward", "--model", base.toString(), "--tokens", "1 999", "--out", out), "token id 999");
    }

    @Test
    void aUsageErrorIsOneLine() {
        Result missing = run("finetune", "--model", base.toString());
        assertOneLineError(missing, "--data");
        assertTrue(missing.err().startsWith("sbora finetune: "), missing.err());
        assertOneLineError(run("frobnicate"), "frobnicate");
        assertOneLineError(
                run("forward", "--model", base.toString(), "--tokens", "1", "--out", "x", "--bogus"), "--bogus");
        assertOneLineError(
                run(
                        "finetune",
                        "--model",
                        base.toString(),
                        "--data",
                        data.toString(),
                        "--method",
                        "lora",
                        "--r",
                        "two",
                        "--alpha",
                        "4",
                        "--out",
                        "x"),
                "two");
    }

    @Test
    void demoWithTinySettingsWritesTheChartAndTheAdapters() throws IOException {
        Path out = tmp.resolve("demo");
        Result r = run(
                "demo",
                "--out",
                out.toString(),
                "--pretrain-steps",
                "3",
                "--steps",
                "2",
                "--hidden",
                "32",
                "--layers",
                "1",
                "-r",
                "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(out.resolve("loss_curves.png")) > 0);
        byte[] png = Files.readAllBytes(out.resolve("loss_curves.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        List<String> adapters = new ArrayList<>();
        try (Stream<Path> s = Files.list(out.resolve("adapters"))) {
            s.forEach(p -> adapters.add(p.getFileName().toString()));
        }
        Set<String> expected = new HashSet<>();
        for (LlamaDemo.Run run : LlamaDemo.plan(2)) {
            expected.add(run.label().replace(" r=", "-r"));
        }
        assertTrue(
                expected.containsAll(
                        Set.of("lora-r2", "lora-fa-r2", "dora-r2", "sbora-fa-r2", "sbora-fb-r2", "sbora-fa-r4")),
                expected.toString());
        assertEquals(expected, Set.copyOf(adapters), "one adapter folder per run of the plan");
        for (String a : adapters) {
            assertTrue(Files.isRegularFile(out.resolve("adapters").resolve(a).resolve(AdapterFiles.WEIGHTS)), a);
        }
        assertTrue(Files.isRegularFile(out.resolve("base-model").resolve(ModelFiles.CONFIG)));
        assertTrue(r.out().contains("sbora-fa"), r.out());
    }

    @Test
    void qsboraFinetunesOverAnNf4BaseAndMergesIntoItBothWays() throws IOException {
        Path qAdapter = tmp.resolve("q-adapter");
        Result ft = run(
                "finetune",
                "--model",
                base.toString(),
                "--data",
                data.toString(),
                "--method",
                "sbora-fa",
                "--r",
                "2",
                "--alpha",
                "4",
                "--steps",
                "2",
                "--batch",
                "2",
                "--seq-len",
                "64",
                "--template",
                "plain",
                "--tokenizer",
                "byte",
                "--quantize",
                "nf4",
                "--out",
                qAdapter.toString());
        assertEquals(0, ft.code(), ft.err());
        assertTrue(ft.out().contains("bits per parameter"), ft.out());
        for (String mode : new String[] {"requantize", "overlay"}) {
            Path merged = tmp.resolve("q-merged-" + mode);
            Result m = run(
                    "merge",
                    "--model",
                    base.toString(),
                    "--adapter",
                    qAdapter.toString(),
                    "--quantized",
                    mode,
                    "--out",
                    merged.toString());
            assertEquals(0, m.code(), m.err());
            assertTrue(m.out().contains("NF4 " + mode + " merge"), m.out());
            assertTrue(Files.isRegularFile(merged.resolve("model.safetensors")));
        }
        Result eval = run(
                "eval",
                "--model",
                base.toString(),
                "--adapter",
                qAdapter.toString(),
                "--data",
                data.toString(),
                "--template",
                "plain",
                "--tokenizer",
                "byte",
                "--quantize",
                "nf4",
                "--max-new-tokens",
                "2",
                "--limit",
                "3");
        assertEquals(0, eval.code(), eval.err());
        assertOneLineError(
                run(
                        "finetune",
                        "--model",
                        base.toString(),
                        "--data",
                        data.toString(),
                        "--method",
                        "sbora-fa",
                        "--r",
                        "2",
                        "--alpha",
                        "4",
                        "--quantize",
                        "int3",
                        "--out",
                        tmp.resolve("x").toString()),
                "int3");
    }

    @Test
    void bf16ProjectionsFinetuneAndEvaluate() {
        Path out = tmp.resolve("bf16-adapter");
        Result ft = run(
                "finetune",
                "--model",
                base.toString(),
                "--data",
                data.toString(),
                "--method",
                "sbora-fb",
                "--r",
                "2",
                "--alpha",
                "4",
                "--steps",
                "2",
                "--batch",
                "2",
                "--seq-len",
                "64",
                "--template",
                "plain",
                "--tokenizer",
                "byte",
                "--bf16",
                "--out",
                out.toString());
        assertEquals(0, ft.code(), ft.err());
        assertTrue(ft.out().contains("base projections in bf16"), ft.out());
        Result eval = run(
                "eval",
                "--model",
                base.toString(),
                "--adapter",
                out.toString(),
                "--data",
                data.toString(),
                "--template",
                "plain",
                "--tokenizer",
                "byte",
                "--bf16",
                "--max-new-tokens",
                "2",
                "--limit",
                "2");
        assertEquals(0, eval.code(), eval.err());
        assertOneLineError(
                run("eval", "--model", base.toString(), "--data", data.toString(), "--bf16", "--quantize", "nf4"),
                "pick one");
    }
}
