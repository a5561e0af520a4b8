package io.sbora4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.data.ByteTokenizer;
import io.sbora4j.data.PromptTemplate;
import io.sbora4j.data.SftData;
import io.sbora4j.data.SyntheticTasks;
import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.DiskFull;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.optim.AdamW;
import io.sbora4j.optim.LrSchedule;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checkpoints under faults: damaged files (emptied, truncated, corrupted, missing, a damaged {@code latest}) make a
 * run fall back to the previous checkpoint with one warning line, or fail with one line when none is usable; a disk
 * that fills up in the middle of a save leaves the previous checkpoint whole and named; a run with other settings is
 * refused. Every resumed run ends bit-identical to the uninterrupted one.
 */
class CheckpointFaultsTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final long SEED = 9;
    private static final int STEPS = 4, EVERY = 2, BATCH = 2;
    private static final SftData DATA = new SftData(
            SyntheticTasks.addition(1, 3).subList(0, 8), new ByteTokenizer(), PromptTemplate.PLAIN, 32, SEED);

    @TempDir
    static Path shared;

    /** checkpoint-2 and checkpoint-4 of the run, copied for each case. */
    static Path template;

    static Map<String, float[]> reference;
    static List<Double> referenceLosses;

    private static PeftModel<LlamaModel> fresh(double alpha, Arena arena) {
        LlamaModel model = LlamaModel.random(CFG, 3, Device.CPU, arena);
        return PeftModel.inject(
                model,
                AdapterConfig.of(AdapterMethods.LORA, 2, alpha).withDropout(0.1).withSeed(SEED),
                arena);
    }

    private static Trainer.Config config(int steps, Path checkpoints) {
        return new Trainer.Config(
                steps,
                1,
                new LrSchedule(1e-2, 1, STEPS, LrSchedule.Decay.LINEAR),
                0.01,
                1.0,
                SEED,
                checkpoints,
                EVERY,
                Map.of("data", "eight sums"));
    }

    /** What a run that resumes from {@code checkpoints} ends with, and the warnings it gave. */
    record Run(Map<String, float[]> weights, List<Double> losses, List<String> warnings) {}

    private static Run run(int steps, Path checkpoints) {
        return run(steps, checkpoints, 4);
    }

    private static Run run(int steps, Path checkpoints, double alpha) {
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(alpha, arena);
            List<String> warnings = new ArrayList<>();
            Trainer.Result r = new Trainer(
                            Trainable.of(peft), config(steps, checkpoints), new LmTask(peft.model(), DATA, BATCH, 1))
                    .run(p -> {}, warnings::add);
            return new Run(weights(peft), r.losses(), warnings);
        }
    }

    private static Map<String, float[]> weights(PeftModel<LlamaModel> peft) {
        Map<String, float[]> out = new LinkedHashMap<>();
        peft.adapted()
                .forEach((path, a) -> a.adapter().tensors().forEach((n, t) -> {
                    if (t.dtype() == DType.F32) {
                        out.put(path + "." + n, t.toFloatArray());
                    }
                }));
        return out;
    }

    private static void assertBitEqual(Map<String, float[]> expected, Map<String, float[]> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        for (var e : expected.entrySet()) {
            float[] a = e.getValue(), b = actual.get(e.getKey());
            for (int i = 0; i < a.length; i++) {
                assertEquals(
                        Float.floatToRawIntBits(a[i]),
                        Float.floatToRawIntBits(b[i]),
                        what + ": " + e.getKey() + "[" + i + "]");
            }
        }
    }

    private static void assertLikeTheUninterruptedRun(Run r, String what) {
        assertEquals(referenceLosses, r.losses(), what + ": the same losses, bit for bit");
        assertBitEqual(reference, r.weights(), what);
    }

    @BeforeAll
    static void uninterruptedRun() throws IOException {
        Run straight = run(STEPS, null);
        reference = straight.weights();
        referenceLosses = straight.losses();
        template = shared.resolve("template");
        Run checkpointed = run(STEPS, template);
        assertLikeTheUninterruptedRun(checkpointed, "checkpoints change nothing");
        assertEquals(List.of("checkpoint-2", "checkpoint-4", "latest"), names(template));
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static Path copyOfTemplate(Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(template)) {
            for (Path p : walk.toList()) {
                Path q = to.resolve(template.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q);
                }
            }
        }
        return to;
    }

    /** How a file is damaged. */
    enum Damage {
        EMPTIED,
        TRUNCATED,
        CORRUPTED,
        DELETED;

        void apply(Path f) throws IOException {
            switch (this) {
                case EMPTIED -> Files.write(f, new byte[0]);
                case TRUNCATED -> {
                    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                        ch.truncate(ch.size() / 2);
                    }
                }
                case CORRUPTED -> {
                    byte[] b = Files.readAllBytes(f);
                    b[b.length * 2 / 3] ^= 0x40; // one bit, in the data (or in the config's text)
                    Files.write(f, b);
                }
                case DELETED -> Files.delete(f);
            }
        }
    }

    static Stream<Object[]> damagedFiles() {
        List<Object[]> cases = new ArrayList<>();
        for (String f : List.of(
                "model/" + AdapterFiles.WEIGHTS,
                "model/" + AdapterFiles.CONFIG,
                "optimizer.safetensors",
                "trainer_state.json")) {
            for (Damage d : Damage.values()) {
                cases.add(new Object[] {f, d});
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{1} {0}")
    @MethodSource("damagedFiles")
    void aDamagedNewestCheckpointFallsBackToThePreviousOne(String file, Damage damage, @TempDir Path dir)
            throws IOException {
        Path cp = copyOfTemplate(dir.resolve("cp"));
        damage.apply(cp.resolve("checkpoint-4").resolve(file));
        Run r = run(STEPS, cp);
        assertEquals(1, r.warnings().size(), r.warnings().toString());
        String w = r.warnings().getFirst();
        assertEquals(1, w.lines().count(), w);
        assertTrue(w.contains("checkpoint-4") && w.contains("resuming from checkpoint-2"), w);
        assertTrue(w.contains(file.substring(file.lastIndexOf('/') + 1)), "names the damaged file: " + w);
        assertLikeTheUninterruptedRun(r, damage + " " + file);
        assertEquals(List.of("checkpoint-2", "checkpoint-4", "latest"), names(cp));
        assertEquals(STEPS, Checkpoints.verify(cp.resolve("checkpoint-4")).step(), "rewritten whole");
    }

    static Stream<Object[]> damagedPointers() {
        return Stream.of(
                new Object[] {"empty", ""},
                new Object[] {"garbage", "\u0000\u00ff\u0013garbage"},
                new Object[] {"a missing checkpoint", "checkpoint-99"},
                new Object[] {"a path out of the folder", "../../etc/passwd"},
                new Object[] {"a huge file", "x".repeat(10_000)});
    }

    @ParameterizedTest(name = "latest holding {0}")
    @MethodSource("damagedPointers")
    void aDamagedLatestPointerIsWarnedAboutAndTheNewestGoodCheckpointUsed(
            String what, String content, @TempDir Path dir) throws IOException {
        Path cp = copyOfTemplate(dir.resolve("cp"));
        Files.writeString(cp.resolve("latest"), content);
        Run r = run(STEPS, cp);
        assertEquals(1, r.warnings().size(), r.warnings().toString());
        assertTrue(r.warnings().getFirst().contains("latest"), r.warnings().getFirst());
        assertEquals(1, r.warnings().getFirst().lines().count());
        assertLikeTheUninterruptedRun(r, what);
    }

    @Test
    void aStateEditedIntoOtherValidJsonIsCaughtByItsChecksum(@TempDir Path dir) throws IOException {
        Path cp = copyOfTemplate(dir.resolve("cp"));
        Path state = cp.resolve("checkpoint-4").resolve("trainer_state.json");
        String text = Files.readString(state);
        assertTrue(text.contains("eight sums"), text);
        Files.writeString(state, text.replace("eight sums", "eight suns"));
        Run r = run(STEPS, cp);
        assertEquals(1, r.warnings().size(), r.warnings().toString());
        assertTrue(
                r.warnings().getFirst().contains("trainer_state.json is corrupted"),
                r.warnings().getFirst());
        assertLikeTheUninterruptedRun(r, "edited state");
    }

    @Test
    void aMissingLatestPointerIsNoProblem(@TempDir Path dir) throws IOException {
        Path cp = copyOfTemplate(dir.resolve("cp"));
        Files.delete(cp.resolve("latest"));
        Run r = run(STEPS, cp);
        assertEquals(List.of(), r.warnings());
        assertLikeTheUninterruptedRun(r, "no latest");
    }

    @Test
    void whenNoCheckpointIsUsableTheRunStopsWithOneLineNamingEach(@TempDir Path dir) throws IOException {
        Path cp = copyOfTemplate(dir.resolve("cp"));
        Damage.TRUNCATED.apply(cp.resolve("checkpoint-4").resolve("optimizer.safetensors"));
        Damage.EMPTIED.apply(cp.resolve("checkpoint-2").resolve("trainer_state.json"));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> run(STEPS, cp));
        String m = e.getMessage();
        assertEquals(1, m.lines().count(), m);
        assertTrue(m.contains("no usable checkpoint"), m);
        assertTrue(m.contains("checkpoint-4: optimizer.safetensors has"), m);
        assertTrue(m.contains("checkpoint-2: trainer_state.json is empty"), m);
    }

    @Test
    void leftoversOfAnInterruptedSaveAreDeletedAtTheNextStart(@TempDir Path dir) throws IOException {
        Path cp = copyOfTemplate(dir.resolve("cp"));
        Files.createDirectories(cp.resolve("checkpoint-6.tmp-1f").resolve("model"));
        Files.writeString(cp.resolve("checkpoint-6.tmp-1f").resolve("optimizer.safetensors"), "half");
        Files.createDirectories(cp.resolve("checkpoint-2.old-7a"));
        Files.writeString(cp.resolve(".latest.5e.tmp"), "check");
        Run r = run(STEPS, cp);
        assertEquals(List.of(), r.warnings());
        assertLikeTheUninterruptedRun(r, "leftovers");
        assertEquals(List.of("checkpoint-2", "checkpoint-4", "latest"), names(cp));
    }

    @Test
    void resumingWithOtherSettingsIsRefusedInOneLineNamingThem(@TempDir Path dir) throws IOException {
        Path cp = copyOfTemplate(dir.resolve("cp"));
        RunMismatchException e = assertThrows(RunMismatchException.class, () -> run(STEPS, cp, 8));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertTrue(e.getMessage().contains("alpha: 4.0 -> 8.0"), e.getMessage());
        assertEquals(List.of("alpha: 4.0 -> 8.0"), e.differences());
        assertEquals(STEPS, Checkpoints.verify(cp.resolve("checkpoint-4")).step(), "left as it was");
    }

    /**
     * A disk that fills up at offsets spread over the save of checkpoint-4 (and its {@code latest}): one line naming
     * the last complete checkpoint, which stays whole and named; no temporary left; the resumed run ends as the
     * uninterrupted one.
     */
    @Test
    void aDiskFullWhileSavingLeavesThePreviousCheckpointWhole(@TempDir Path dir) throws IOException {
        long first, both;
        try (DiskFull counting = DiskFull.counting()) {
            run(EVERY, dir.resolve("count"));
            first = counting.written();
        }
        try (DiskFull counting = DiskFull.counting()) {
            run(STEPS, dir.resolve("count-all"));
            both = counting.written();
        }
        long second = both - first;
        assertTrue(second > 1000, "a checkpoint is some kilobytes: " + second);
        List<Long> offsets = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            offsets.add(second * i / 12);
        }
        offsets.add(second - 1); // the last byte of latest
        int cases = 0;
        for (long k : offsets) {
            Path cp = dir.resolve("full-" + k);
            try (DiskFull ignored = DiskFull.after(first + k)) {
                UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> run(STEPS, cp));
                String m = e.getMessage();
                assertEquals(1, m.lines().count(), m);
                assertTrue(m.contains("writing the checkpoint of step 4 failed: No space left on device"), m);
                assertTrue(m.contains("the last complete checkpoint is " + cp.resolve("checkpoint-2")), m);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("disk full after " + k + " bytes of checkpoint-4: " + e.getMessage(), e);
            }
            List<String> left = names(cp);
            assertTrue(
                    left.equals(List.of("checkpoint-2", "latest"))
                            || left.equals(List.of("checkpoint-2", "checkpoint-4", "latest")),
                    "after " + k + " bytes: " + left);
            assertEquals(EVERY, Checkpoints.verify(cp.resolve("checkpoint-2")).step());
            Run resumed = run(STEPS, cp);
            assertEquals(List.of(), resumed.warnings(), "after " + k + " bytes");
            assertLikeTheUninterruptedRun(resumed, "disk full after " + k + " bytes");
            cases++;
        }
        assertEquals(13, cases);
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> temporaries = walk.filter(p -> p.getFileName().toString().contains(".tmp"))
                    .sorted(Comparator.reverseOrder())
                    .toList();
            assertEquals(List.of(), temporaries);
        }
    }

    /** A checkpoint of named tensors {@code w} (and more) written by hand, as the trainer would write it. */
    private static Path checkpointOf(Path dir, Map<String, int[]> shapes) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> params = new LinkedHashMap<>();
            shapes.forEach((n, dims) ->
                    params.put(n, Tensor.zeros(arena, Device.CPU, dims).requiresGrad(true)));
            Trainable t = Trainable.of(params);
            try (AdamW opt = new AdamW(List.copyOf(params.values()), AdamW.Config.lr(0.1))) {
                return new Checkpoints(dir)
                        .save(t, opt, new Checkpoints.State(0, new RunIdentity(Map.of()), List.of()));
            }
        }
    }

    private static String restoreInto(Path checkpoint, Map<String, int[]> shapes) {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> params = new LinkedHashMap<>();
            shapes.forEach((n, dims) ->
                    params.put(n, Tensor.zeros(arena, Device.CPU, dims).requiresGrad(true)));
            try (AdamW opt = new AdamW(List.copyOf(params.values()), AdamW.Config.lr(0.1))) {
                IllegalArgumentException e = assertThrows(
                        IllegalArgumentException.class,
                        () -> Checkpoints.restore(checkpoint, Trainable.of(params), opt));
                assertEquals(1, e.getMessage().lines().count(), e.getMessage());
                return e.getMessage();
            }
        }
    }

    @Test
    void optimizerStateIsKeyedByNameAndShape(@TempDir Path dir) throws IOException {
        Path cp = checkpointOf(dir, Map.of("w", new int[] {2, 3}));
        String shape = restoreInto(cp, Map.of("w", new int[] {3, 2}));
        assertTrue(shape.contains("w") && shape.contains("[2, 3]") && shape.contains("[3, 2]"), shape);
        String renamed = restoreInto(cp, Map.of("v", new int[] {2, 3}));
        assertTrue(renamed.contains("moments of w.exp_avg") && renamed.contains("does not train"), renamed);
        String more = restoreInto(cp, new LinkedHashMap<>(Map.of("w", new int[] {2, 3}, "u", new int[] {1})));
        assertTrue(more.contains("no tensor u"), more);
    }
}
