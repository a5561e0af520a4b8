package io.sbora4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.data.ByteTokenizer;
import io.sbora4j.data.PromptTemplate;
import io.sbora4j.data.SftData;
import io.sbora4j.data.SyntheticTasks;
import io.sbora4j.dist.AbortedException;
import io.sbora4j.dist.Communicator;
import io.sbora4j.dist.LocalCommunicator;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.optim.LrSchedule;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Data-parallel training with threads as ranks: n ranks at batch b train the adapter one process trains at batch
 * n·b, the ranks keep bit-identical parameters, a run resumes on another number of ranks, and a rank that fails or
 * runs another configuration stops them all.
 */
class DataParallelTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final long SEED = 5;
    /** Sums of different lengths, so that the ranks' shards hold different numbers of supervised tokens. */
    private static final SftData DATA = new SftData(
            SyntheticTasks.addition(1, 30).subList(0, 24), new ByteTokenizer(), PromptTemplate.PLAIN, 32, SEED);

    @TempDir
    Path dir;

    /** What one rank (or the single process) ended with. */
    record Outcome(Map<String, float[]> adapter, Trainer.Result result, int progressCalls) {}

    /** How a rank's trainer is set up: its rank, the trainable and task it would use. */
    interface Setup {
        Trainer make(int rank, Trainable trainable, Trainer.Task task, Communicator comm);
    }

    private static Trainer.Config config(int steps, int accum, int globalBatch, double lr, Path checkpoints) {
        return new Trainer.Config(
                        steps,
                        accum,
                        new LrSchedule(lr, 1, 4, LrSchedule.Decay.LINEAR),
                        0.01,
                        1.0,
                        SEED,
                        checkpoints,
                        checkpoints == null ? 0 : 2)
                .withRun(Map.of("batch", Integer.toString(globalBatch)));
    }

    /** Trains on {@code ranks} threads at {@code batch} each (one rank: the plain single-process path). */
    private static List<Object> train(AdapterMethod m, int ranks, int batch, int accum, Setup setup)
            throws InterruptedException {
        List<Communicator> comms = ranks == 1 ? List.of(Communicator.single()) : LocalCommunicator.group(ranks);
        Object[] out = new Object[ranks];
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            int rank = r;
            threads.add(Thread.ofPlatform().name("rank-" + r).start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    LlamaModel model = LlamaModel.random(CFG, 3, Device.CPU, arena); // the same on every rank
                    var peft = PeftModel.inject(model, AdapterConfig.of(m, 2, 4).withSeed(SEED), arena);
                    Trainer.Task task = new LmTask(model, DATA, batch, accum, rank, ranks);
                    AtomicInteger calls = new AtomicInteger();
                    Trainer.Result res = setup.make(rank, Trainable.of(peft), task, comms.get(rank))
                            .run(p -> calls.incrementAndGet());
                    out[rank] = new Outcome(trainable(peft), res, calls.get());
                } catch (Throwable t) {
                    out[rank] = t;
                }
            }));
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(20));
            assertFalse(t.isAlive(), t.getName() + " still runs after 20 s: a rank hangs");
        }
        return Arrays.asList(out);
    }

    private static Setup plain(int steps, int accum, int globalBatch) {
        return (rank, t, task, c) -> new Trainer(t, config(steps, accum, globalBatch, 1e-2, null), task, c);
    }

    private static Outcome ok(Object o) {
        if (o instanceof Throwable t) {
            throw new AssertionError("a rank failed: " + t, t);
        }
        return (Outcome) o;
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

    /**
     * Every tensor within {@code 1e-5} of the expected one in L2 norm, relative to the expected one's norm: the sums
     * over ranks round differently from the sums over one batch, and Adam's second step amplifies that rounding
     * in the few entries whose two gradients nearly cancel, so single entries may differ by somewhat more.
     */
    private static void assertClose(Map<String, float[]> expected, Map<String, float[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (var e : expected.entrySet()) {
            float[] a = e.getValue(), b = actual.get(e.getKey());
            double norm = 0, diff = 0;
            for (int i = 0; i < a.length; i++) {
                norm += (double) a[i] * a[i];
                diff += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
            }
            assertTrue(
                    Math.sqrt(diff) <= 1e-5 * Math.sqrt(norm),
                    e.getKey() + ": differs by " + Math.sqrt(diff) + " in norm " + Math.sqrt(norm));
        }
    }

    private static void assertBitEqual(Map<String, float[]> expected, Map<String, float[]> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet());
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

    private static void assertLossesClose(List<Double> expected, List<Double> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i), actual.get(i), 1e-5 * Math.abs(expected.get(i)), "loss of step " + i);
        }
    }

    /** Every method, on 2 ranks of one sequence each and on 3 ranks of two (in gradients split over buckets). */
    static Stream<Arguments> methodsAndShapes() {
        List<Arguments> out = new ArrayList<>();
        for (AdapterMethod m : List.of(
                AdapterMethods.LORA,
                AdapterMethods.LORA_FA,
                AdapterMethods.SBORA_FA,
                AdapterMethods.SBORA_FB,
                AdapterMethods.DORA)) {
            out.add(Arguments.of(m, 2, 1, 2, Trainer.DEFAULT_BUCKET_BYTES));
            out.add(Arguments.of(m, 3, 2, 1, 1000L));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, {1} ranks x batch {2}, accumulation {3}")
    @MethodSource("methodsAndShapes")
    void ranksTrainTheAdapterOneProcessTrainsAtTheirGlobalBatch(
            AdapterMethod m, int ranks, int batch, int accum, long bucketBytes) throws Exception {
        int steps = 2;
        Outcome single = ok(train(m, 1, ranks * batch, accum, plain(steps, accum, ranks * batch))
                .getFirst());
        List<Object> parallel = train(
                m,
                ranks,
                batch,
                accum,
                (rank, t, task, c) -> new Trainer(t, config(steps, accum, ranks * batch, 1e-2, null), task, c)
                        .bucketBytes(bucketBytes));
        Outcome first = ok(parallel.getFirst());
        assertClose(single.adapter(), first.adapter());
        assertLossesClose(single.result().losses(), first.result().losses());
        for (int r = 1; r < ranks; r++) {
            Outcome o = ok(parallel.get(r));
            assertBitEqual(first.adapter(), o.adapter(), "rank " + r + " vs rank 0");
            assertEquals(first.result().losses(), o.result().losses(), "every rank logs the global loss");
            assertEquals(0, o.progressCalls(), "only rank 0 reports progress");
        }
        assertEquals(steps, first.progressCalls());
        assertTrue(first.result().allReduceMillisPerStep() > 0, "the time in collectives is measured");
        assertEquals(0, single.result().allReduceMillisPerStep());
        boolean changed = false;
        for (float[] v : first.adapter().values()) {
            for (float x : v) {
                changed |= x != 0;
            }
        }
        assertTrue(changed);
    }

    @Test
    void aRunResumesOnAnotherNumberOfRanksAtTheSameGlobalBatch() throws Exception {
        AdapterMethod m = AdapterMethods.SBORA_FA;
        int steps = 4, accum = 1;
        Outcome straight = ok(train(m, 1, 4, accum, plain(steps, accum, 4)).getFirst());
        Path cp = dir.resolve("cp");
        // one process at batch 4 stops after 2 steps, with a checkpoint
        Outcome firstHalf =
                ok(train(m, 1, 4, accum, (rank, t, task, c) -> new Trainer(t, config(2, accum, 4, 1e-2, cp), task, c))
                        .getFirst());
        assertEquals(2, firstHalf.result().losses().size());
        // two ranks at batch 2 take over from it
        List<Object> resumed =
                train(m, 2, 2, accum, (rank, t, task, c) -> new Trainer(t, config(steps, accum, 4, 1e-2, cp), task, c));
        Outcome r0 = ok(resumed.get(0)), r1 = ok(resumed.get(1));
        assertBitEqual(r0.adapter(), r1.adapter(), "rank 1 vs rank 0");
        assertClose(straight.adapter(), r0.adapter());
        assertEquals(
                straight.result().losses().subList(0, 2), r0.result().losses().subList(0, 2), "restored");
        assertLossesClose(straight.result().losses(), r0.result().losses());
        assertEquals(
                Checkpoints.verify(cp.resolve("checkpoint-4")).run().fields().get("batch"), "4");
        assertEquals(r0.result().checkpoint(), r1.result().checkpoint(), "every rank knows rank 0's checkpoint");
    }

    @Test
    void ranksWithAnotherConfigurationAreRefusedOnEveryRank() throws Exception {
        List<Object> got = train(
                AdapterMethods.LORA,
                3,
                1,
                1,
                (rank, t, task, c) -> new Trainer(t, config(2, 1, 3, rank == 2 ? 2e-2 : 1e-2, null), task, c));
        for (Object o : got) {
            IllegalArgumentException e = assertInstanceOf(IllegalArgumentException.class, o, String.valueOf(o));
            assertEquals("rank 2 runs a different configuration than rank 0: lr: 0.01 -> 0.02", e.getMessage());
        }
    }

    @Test
    void aRankThatFailsStopsTheOthers() throws Exception {
        long t0 = System.nanoTime();
        List<Object> got = train(AdapterMethods.LORA, 3, 1, 1, (rank, t, task, c) -> {
            Trainer.Task failing = new Trainer.Task() {
                @Override
                public Tensor loss(long step, int micro) {
                    if (rank == 1 && step == 1) {
                        throw new IllegalStateException("out of tokens");
                    }
                    return task.loss(step, micro);
                }

                @Override
                public long tokens(long step, int micro) {
                    return task.tokens(step, micro);
                }

                @Override
                public long lossTerms(long step, int micro) {
                    return task.lossTerms(step, micro);
                }
            };
            return new Trainer(t, config(3, 1, 3, 1e-2, null), failing, c);
        });
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "the others do not wait for it");
        assertEquals(
                "out of tokens",
                assertInstanceOf(IllegalStateException.class, got.get(1)).getMessage());
        for (int r : new int[] {0, 2}) {
            AbortedException e = assertInstanceOf(AbortedException.class, got.get(r), String.valueOf(got.get(r)));
            assertEquals(1, e.abortingRank());
            assertTrue(e.getMessage().contains("out of tokens"), e.getMessage());
        }
    }

    @Test
    void aCheckpointRankZeroCannotWriteFailsEveryRank() throws Exception {
        Path cp = dir.resolve("cp");
        List<Object> got = train(AdapterMethods.LORA, 2, 1, 1, (rank, t, task, c) -> {
            Trainable full = new Trainable() {
                @Override
                public Map<String, Tensor> parameters() {
                    return t.parameters();
                }

                @Override
                public void startMicroBatch(long counter) {
                    t.startMicroBatch(counter);
                }

                @Override
                public void train(boolean training) {
                    t.train(training);
                }

                @Override
                public void save(Path d) throws IOException {
                    throw new IOException("No space left on device");
                }

                @Override
                public void restore(Path d) throws IOException {
                    t.restore(d);
                }

                @Override
                public Map<String, String> identity() {
                    return t.identity();
                }
            };
            return new Trainer(full, config(2, 1, 2, 1e-2, cp), task, c);
        });
        for (Object o : got) {
            UncheckedIOException e = assertInstanceOf(UncheckedIOException.class, o, String.valueOf(o));
            assertEquals(
                    "writing the checkpoint of step 2 failed: No space left on device; no checkpoint was written yet",
                    e.getMessage());
        }
    }
}
