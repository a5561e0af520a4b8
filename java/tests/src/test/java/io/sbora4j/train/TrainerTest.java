package io.sbora4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.data.ByteTokenizer;
import io.sbora4j.data.PromptTemplate;
import io.sbora4j.data.SftData;
import io.sbora4j.data.SyntheticTasks;
import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.SafetensorsFile;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.ops.Elementwise;
import io.sbora4j.optim.LrSchedule;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The fine-tuning loop: resumption, divergence, checkpoint rotation. */
class TrainerTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final long SEED = 5;
    private static final int ACCUM = 2, BATCH = 2;
    private static final SftData DATA = new SftData(
            SyntheticTasks.addition(1, 3).subList(0, 12), new ByteTokenizer(), PromptTemplate.PLAIN, 32, SEED);

    @TempDir
    Path dir;

    /** A fresh base model with a fresh adapter: what a new process would build. */
    private static PeftModel<LlamaModel> fresh(AdapterMethod m, Arena arena) {
        LlamaModel model = LlamaModel.random(CFG, 3, Device.CPU, arena);
        return PeftModel.inject(
                model, AdapterConfig.of(m, 2, 4).withDropout(0.1).withSeed(SEED), arena);
    }

    private static Trainer.Config config(int steps, Path checkpoints, int every) {
        // the schedule spans the whole run (6 steps) even when this process stops earlier
        return new Trainer.Config(
                steps, ACCUM, new LrSchedule(1e-2, 1, 6, LrSchedule.Decay.LINEAR), 0.01, 1.0, SEED, checkpoints, every);
    }

    private static Trainer.Result train(PeftModel<LlamaModel> peft, Trainer.Config c, Trainer.Task task) {
        return new Trainer(Trainable.of(peft), c, task).run(p -> {});
    }

    private static Trainer.Task task(PeftModel<LlamaModel> peft) {
        return new LmTask(peft.model(), DATA, BATCH, ACCUM);
    }

    private static Map<String, float[]> trainable(PeftModel<LlamaModel> peft) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (var e : peft.adapted().entrySet()) {
            for (var t : e.getValue().adapter().tensors().entrySet()) {
                if (t.getValue().dtype() == DType.F32) {
                    out.put(e.getKey() + "." + t.getKey(), t.getValue().toFloatArray());
                }
            }
        }
        return out;
    }

    private static void assertBitEqual(Map<String, float[]> expected, Map<String, float[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (var e : expected.entrySet()) {
            float[] a = e.getValue(), b = actual.get(e.getKey());
            for (int i = 0; i < a.length; i++) {
                assertEquals(
                        Float.floatToRawIntBits(a[i]),
                        Float.floatToRawIntBits(b[i]),
                        e.getKey() + "[" + i + "]: " + a[i] + " vs " + b[i]);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#loraSboraFaDora")
    void aResumedRunIsBitIdenticalToAnUninterruptedOne(AdapterMethod m) {
        Map<String, float[]> straight, resumed, initial;
        Trainer.Result straightResult, resumedResult;
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(m, arena);
            initial = trainable(peft);
            straightResult = train(peft, config(6, dir.resolve("straight"), 3), task(peft));
            straight = trainable(peft);
        }
        Path cp = dir.resolve("interrupted");
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(m, arena);
            Trainer.Result first = train(peft, config(3, cp, 3), task(peft)); // the process stops after step 3
            assertEquals(3, first.losses().size());
        }
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(m, arena); // a new process: new model, new adapter, resumes from checkpoint-3
            resumedResult = train(peft, config(6, cp, 3), task(peft));
            resumed = trainable(peft);
        }
        assertEquals(straightResult.losses(), resumedResult.losses(), "the same losses, bit for bit");
        assertTrue(straightResult.peakStepBytes() > 0, "the result reports the memory a micro-batch took");
        assertBitEqual(straight, resumed);
        boolean changed = false;
        for (var e : initial.entrySet()) {
            changed |= !Arrays.equals(e.getValue(), straight.get(e.getKey()));
        }
        assertTrue(changed, "training changed the adapter");
    }

    @Test
    void dropoutMasksDependOnTheSeed() {
        Map<String, float[]> a, b;
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(AdapterMethods.LORA, arena);
            train(peft, config(2, null, 0), task(peft));
            a = trainable(peft);
        }
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(AdapterMethods.LORA, arena);
            train(
                    peft,
                    new Trainer.Config(
                            2,
                            ACCUM,
                            new LrSchedule(1e-2, 1, 6, LrSchedule.Decay.LINEAR),
                            0.01,
                            1.0,
                            SEED + 1,
                            null,
                            0),
                    task(peft));
            b = trainable(peft);
        }
        boolean differ = false;
        for (String key : a.keySet()) {
            differ |= !Arrays.equals(a.get(key), b.get(key));
        }
        assertTrue(differ, "another trainer seed draws other dropout masks");
    }

    @Test
    void resumingWithAnotherSeedIsRefused() {
        Path cp = dir.resolve("cp");
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(AdapterMethods.SBORA_FA, arena);
            train(peft, config(2, cp, 2), task(peft));
        }
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(AdapterMethods.SBORA_FA, arena);
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> train(
                            peft,
                            new Trainer.Config(
                                    4,
                                    ACCUM,
                                    new LrSchedule(1e-2, 1, 6, LrSchedule.Decay.LINEAR),
                                    0.01,
                                    1.0,
                                    SEED + 1,
                                    cp,
                                    2),
                            task(peft)));
            assertTrue(e.getMessage().contains("seed: " + SEED + " -> " + (SEED + 1)), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }

    /** A task whose loss becomes NaN at 0-based step {@code bad}. */
    private static Trainer.Task nanAt(Trainer.Task inner, long bad) {
        return new Trainer.Task() {
            @Override
            public Tensor loss(long step, int micro) {
                Tensor l = inner.loss(step, micro);
                return step == bad ? Elementwise.scale(l, Float.NaN) : l;
            }

            @Override
            public long tokens(long step, int micro) {
                return inner.tokens(step, micro);
            }
        };
    }

    @Test
    void aNanLossStopsTheRunNamingTheStepAndTheLastCheckpoint() throws IOException {
        Path cp = dir.resolve("cp");
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(AdapterMethods.LORA, arena);
            List<Map<String, float[]>> afterStep = new ArrayList<>();
            Trainer trainer = new Trainer(Trainable.of(peft), config(6, cp, 2), nanAt(task(peft), 4));
            TrainingDivergedException e = assertThrows(
                    TrainingDivergedException.class, () -> trainer.run(p -> afterStep.add(trainable(peft))));
            assertTrue(e.getMessage().contains("step 5"), e.getMessage());
            assertTrue(e.getMessage().contains(cp.resolve("checkpoint-4").toString()), e.getMessage());
            assertEquals(4, afterStep.size(), "four steps were taken");
            assertBitEqual(afterStep.get(3), trainable(peft)); // the bad step was not applied

            assertEquals("checkpoint-4", Files.readString(cp.resolve("latest")).strip());
            Path good = cp.resolve("checkpoint-4");
            String state = Files.readString(good.resolve("trainer_state.json"));
            assertTrue(state.contains("\"step\" : 4"), state);
            assertFalse(state.contains("NaN"), state);
            try (Arena read = Arena.ofConfined()) {
                SafetensorsFile f = SafetensorsFile.open(good.resolve("model").resolve(AdapterFiles.WEIGHTS), read);
                Map<String, float[]> onDisk = new LinkedHashMap<>();
                for (String name : afterStep.get(3).keySet()) {
                    onDisk.put(name, f.tensor(name, read, Device.CPU).toFloatArray());
                }
                assertBitEqual(afterStep.get(3), onDisk);
            }
        }
    }

    @Test
    void aNanLossBeforeAnyCheckpointSaysSo() {
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(AdapterMethods.SBORA_FB, arena);
            TrainingDivergedException e = assertThrows(
                    TrainingDivergedException.class,
                    () -> train(peft, config(6, dir.resolve("cp"), 3), nanAt(task(peft), 0)));
            assertTrue(e.getMessage().contains("step 1"), e.getMessage());
            assertTrue(e.getMessage().contains("no checkpoint"), e.getMessage());
        }
    }

    @Test
    void checkpointsKeepTheTwoNewestAndLatestNamesTheNewest() throws IOException {
        Path cp = dir.resolve("cp");
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(AdapterMethods.SBORA_FA, arena);
            Trainer.Result r = new Trainer(
                            Trainable.of(peft),
                            new Trainer.Config(
                                    7, 1, new LrSchedule(1e-2, 0, 7, LrSchedule.Decay.CONSTANT), 0, 1.0, SEED, cp, 2),
                            new LmTask(peft.model(), DATA, BATCH, 1))
                    .run(p -> {});
            assertEquals(cp.resolve("checkpoint-7"), r.checkpoint().orElseThrow());
            assertEquals(7, r.losses().size());
        }
        List<String> names;
        try (Stream<Path> s = Files.list(cp)) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of("checkpoint-6", "checkpoint-7", "latest"), names, "2, 4 pruned; no temporary left");
        assertEquals("checkpoint-7", Files.readString(cp.resolve("latest")).strip());
        assertTrue(Files.isRegularFile(cp.resolve("checkpoint-7").resolve("optimizer.safetensors")));
        assertTrue(
                Files.isRegularFile(cp.resolve("checkpoint-7").resolve("model").resolve(AdapterFiles.CONFIG)));
    }

    @Test
    void aFinishedRunResumesToNothing() {
        Path cp = dir.resolve("cp");
        Map<String, float[]> done;
        List<Double> losses;
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(AdapterMethods.LORA, arena);
            losses = train(peft, config(3, cp, 0), task(peft)).losses();
            done = trainable(peft);
        }
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(AdapterMethods.LORA, arena);
            List<Trainer.Progress> calls = new ArrayList<>();
            Trainer.Result r = new Trainer(Trainable.of(peft), config(3, cp, 0), task(peft)).run(calls::add);
            assertTrue(calls.isEmpty(), "no step was taken");
            assertEquals(losses, r.losses());
            assertBitEqual(done, trainable(peft));
        }
    }

    @Test
    void progressReportsEveryStep() {
        try (Arena arena = Arena.ofConfined()) {
            var peft = fresh(AdapterMethods.SBORA_FA, arena);
            List<Trainer.Progress> calls = new ArrayList<>();
            Trainer.Result r = new Trainer(Trainable.of(peft), config(3, null, 0), task(peft)).run(calls::add);
            assertEquals(3, calls.size());
            for (int i = 0; i < 3; i++) {
                Trainer.Progress p = calls.get(i);
                assertEquals(i + 1, p.step());
                assertEquals(3, p.totalSteps());
                assertEquals(r.losses().get(i), p.loss());
                assertEquals(new LrSchedule(1e-2, 1, 6, LrSchedule.Decay.LINEAR).at(i), p.lr());
                assertTrue(Double.isFinite(p.gradNorm()) && p.gradNorm() > 0);
            }
            assertNotEquals(r.losses().get(0), r.losses().get(2));
            assertTrue(r.checkpoint().isEmpty());
        }
    }

    @Test
    void resumingPastTheRequestedStepsIsAnError(@TempDir Path dir) {
        try (Arena arena = Arena.ofConfined()) {
            var first = fresh(AdapterMethods.SBORA_FA, arena);
            train(first, config(4, dir, 2), task(first));
            var second = fresh(AdapterMethods.SBORA_FA, arena);
            var e = Assertions.assertThrows(
                    IllegalArgumentException.class, () -> train(second, config(2, dir, 2), task(second)));
            Assertions.assertTrue(e.getMessage().contains("past the 2 steps"), e.getMessage());
        }
    }
}
