package io.sbora4j.tensor;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.Linear;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.ops.Elementwise;
import io.sbora4j.ops.Losses;
import io.sbora4j.ops.MatMul;
import io.sbora4j.optim.AdamW;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class MemoryScopeTest {

    @Test
    void aTrainingStepReleasesItsTemporaries() {
        try (Arena model = Arena.ofConfined()) {
            SplittableRandom rng = new SplittableRandom(1);
            Tensor w = Tensor.of(model, Device.CPU, Rand.floats(rng, 64 * 32, 1), 64, 32);
            AdaptedLinear layer =
                    AdaptedLinear.attach(new Linear("l", w), AdapterConfig.of(AdapterMethods.SBORA_FA, 4, 8), model);
            try (AdamW opt = new AdamW(layer.trainable(), AdamW.Config.lr(1e-2))) {
                long before = MemoryScope.liveScopedBytes();
                Tensor grad = null;
                for (int step = 0; step < 3; step++) {
                    Tensor x;
                    long allocated;
                    try (MemoryScope scope = MemoryScope.open()) {
                        x = Tensor.of(Device.CPU, Rand.floats(rng, 16 * 32, 1), 16, 32);
                        Tensor target = Tensor.of(Device.CPU, Rand.floats(rng, 16 * 64, 1), 16, 64);
                        Autograd.backward(Losses.mse(layer.forward(x), target));
                        opt.step();
                        allocated = scope.bytesAllocated();
                        assertTrue(MemoryScope.liveScopedBytes() >= before + allocated);
                    }
                    assertTrue(allocated > 16 * 32 * 4, "the step's activations were allocated in its scope");
                    assertFalse(x.data().scope().isAlive(), "the step's tensors are freed with the scope");
                    assertEquals(before, MemoryScope.liveScopedBytes(), "nothing of the step stays allocated");
                    Tensor g = layer.trainable().getFirst().grad();
                    assertNotNull(g);
                    assertTrue(g.data().scope().isAlive(), "parameter gradients live with the parameters");
                    assertTrue(grad == null || grad == g, "the gradient buffer is reused, not reallocated");
                    grad = g;
                }
            }
        }
    }

    /** A tensor over the 128 KiB from which tensors get blocks of their own (and can go back early). */
    private static Tensor large() {
        return Tensor.empty(Device.CPU, DType.F32, 64 * 1024);
    }

    @Test
    void aReleasedLargeTensorGoesBackAtOnceAndCannotBeReadAfterwards() {
        assumeTrue(MemoryScope.poolStats().pooling());
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor keep = large();
            long live = MemoryScope.liveScopedBytes();
            Tensor t = large();
            t.setFloat(0, 1f);
            Tensor view = t.view(256, 256);
            long inUse = MemoryScope.poolStats().inUse();
            MemoryScope.release(t);
            long given = inUse - MemoryScope.poolStats().inUse();
            assertTrue(given >= t.bytes() && given <= t.bytes() * 5 / 4, "its block went back: " + given);
            assertEquals(live, MemoryScope.liveScopedBytes());
            assertThrows(IllegalStateException.class, () -> t.getFloat(0));
            assertThrows(IllegalStateException.class, () -> view.getFloat(0), "its views die with it");
            long fromSystem = MemoryScope.poolStats().blocksFromSystem();
            Tensor next = large();
            next.setFloat(0, 2f);
            assertEquals(fromSystem, MemoryScope.poolStats().blocksFromSystem(), "the block serves the next one");
            MemoryScope.release(t); // twice, or after the memory went to another tensor: nothing happens
            assertEquals(2f, next.getFloat(0));
            keep.setFloat(0, 3f);
        }
    }

    @Test
    void aKeptTensorGoesBackWhenTheLastKeeperLetsGo() {
        assumeTrue(MemoryScope.poolStats().pooling());
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor t = large();
            MemoryScope.keep(t);
            MemoryScope.keep(t.view(512, 128));
            MemoryScope.release(t);
            t.setFloat(0, 1f); // still kept twice
            MemoryScope.unkeep(t);
            assertEquals(1f, t.getFloat(0));
            MemoryScope.unkeep(t);
            assertThrows(IllegalStateException.class, () -> t.getFloat(0));
        }
    }

    @Test
    void releaseSinceAMarkSparesWhatIsKeptAndWhatCameBefore() {
        assumeTrue(MemoryScope.poolStats().pooling());
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor before = large();
            long mark = scope.allocationMark();
            Tensor kept = large();
            Tensor temp = large();
            MemoryScope.keep(kept);
            scope.releaseSince(mark);
            before.setFloat(0, 1f);
            kept.setFloat(0, 1f);
            assertThrows(IllegalStateException.class, () -> temp.getFloat(0));
            MemoryScope.unkeep(kept); // released by the mark, so it goes now
            assertThrows(IllegalStateException.class, () -> kept.getFloat(0));
            assertEquals(1f, before.getFloat(0));
        }
    }

    @Test
    void smallTensorsTensorsOfArenasAndRetainingScopesIgnoreRelease() {
        try (Arena arena = Arena.ofConfined();
                MemoryScope scope = MemoryScope.open()) {
            Tensor small = Tensor.zeros(Device.CPU, 100); // cut from a slab other tensors share
            Tensor owned = Tensor.zeros(arena, Device.CPU, 64 * 1024);
            MemoryScope.release(small);
            MemoryScope.release(owned);
            MemoryScope.keep(owned);
            MemoryScope.unkeep(owned);
            assertEquals(0f, small.getFloat(99));
            assertEquals(0f, owned.getFloat(0));
            try (MemoryScope retaining = MemoryScope.openRetaining()) {
                Tensor t = large();
                MemoryScope.release(t);
                retaining.releaseSince(0);
                t.setFloat(0, 4f);
                assertEquals(4f, t.getFloat(0));
            }
        }
    }

    @Test
    void theBackwardPassGivesBackTemporariesAndConsumedGradients() {
        assumeTrue(MemoryScope.poolStats().pooling());
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom rng = new SplittableRandom(3);
            Tensor w = Tensor.of(arena, Device.CPU, Rand.floats(rng, 256 * 256, 0.05f), 256, 256)
                    .requiresGrad(true);
            float[][] grads = new float[2][];
            long[] peaks = new long[2];
            for (int k = 0; k < 2; k++) {
                w.setGrad(null);
                try (MemoryScope s = k == 0 ? MemoryScope.openRetaining() : MemoryScope.open()) {
                    Tensor x = Tensor.of(Device.CPU, Rand.floats(new SplittableRandom(4), 512 * 256, 1), 512, 256);
                    for (int layer = 0; layer < 8; layer++) { // a chain of (512 x 256) activations, 512 KiB each
                        Tensor y = Elementwise.add(x, MatMul.matmul(x, false, w, true));
                        MemoryScope.release(x);
                        x = y;
                    }
                    Autograd.backward(Losses.mse(x, Tensor.zeros(Device.CPU, 512, 256)));
                    peaks[k] = s.peakBytes();
                }
                grads[k] = w.grad().toFloatArray();
            }
            assertArrayEquals(grads[0], grads[1]);
            assertTrue(peaks[1] < peaks[0] * 2 / 3, "released " + peaks[1] + " bytes at the peak, kept " + peaks[0]);
        }
    }

    @Test
    void scopesNestAndMustCloseInnermostFirst() {
        try (MemoryScope outer = MemoryScope.open()) {
            Tensor a = Tensor.zeros(Device.CPU, 10);
            MemoryScope inner = MemoryScope.open();
            Tensor b = Tensor.zeros(Device.CPU, 10);
            assertThrows(IllegalStateException.class, outer::close);
            inner.close();
            assertFalse(b.data().scope().isAlive());
            assertTrue(a.data().scope().isAlive());
            assertEquals(40, outer.bytesAllocated());
        }
    }

    @Test
    void tensorsOutsideAnyScopeAreCollectedByTheGarbageCollector() {
        Tensor t = Tensor.zeros(Device.CPU, 3);
        assertTrue(t.data().scope().isAlive());
        assertEquals(12, t.bytes());
    }

    /** One training step of {@code peft} in a scope of its own; the scope's peak. */
    private static long step(LlamaModel model, AdamW opt, Tensor ids, int[] targets) {
        MemoryScope scope = MemoryScope.open();
        try (scope) {
            Tensor t = Tensor.ofInts(Device.CPU, targets, targets.length);
            Autograd.backward(Losses.crossEntropy(model.logits(ids), t, -100));
            opt.step();
            opt.zeroGrad();
        }
        return scope.peakBytes();
    }

    @Test
    void stepsAfterTheFirstTakeNoMemoryFromTheSystem() {
        assumeTrue(MemoryScope.poolStats().pooling(), "the pool is on (native access, no -Dsbora.memory.pool=false)");
        LlamaConfig cfg = LlamaConfig.tiny(259);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel model = LlamaModel.random(cfg, 1, Device.CPU, arena);
            PeftModel<LlamaModel> peft =
                    PeftModel.inject(model, AdapterConfig.of(AdapterMethods.SBORA_FA, 16, 32), arena);
            peft.train(true);
            SplittableRandom rng = new SplittableRandom(2);
            int batch = 4, seq = 64;
            int[] ids = rng.ints(batch * seq, 0, cfg.vocabSize()).toArray();
            int[] targets = rng.ints(batch * seq, 0, cfg.vocabSize()).toArray();
            Tensor input = Tensor.ofInts(arena, Device.CPU, ids, batch, seq);
            try (AdamW opt = new AdamW(peft.trainable(), AdamW.Config.lr(1e-3))) {
                long live = MemoryScope.liveScopedBytes();
                long warmPeak = step(model, opt, input, targets); // the warm-up fills the pool
                MemoryScope.PoolStats warm = MemoryScope.poolStats();
                assertTrue(warmPeak > 4L * batch * seq * cfg.vocabSize(), "the step held its logits and more");
                assertTrue(warm.held() >= warmPeak && warm.peakInUse() >= warmPeak, warm.toString());
                for (int i = 0; i < 3; i++) {
                    long peak = step(model, opt, input, targets);
                    MemoryScope.PoolStats s = MemoryScope.poolStats();
                    assertEquals(warm.blocksFromSystem(), s.blocksFromSystem(), "no block came from the system");
                    assertEquals(warm.held(), s.held(), "the pool holds what it held after the warm-up");
                    assertEquals(warm.inUse(), s.inUse(), "the step gave back every block it took");
                    assertEquals(live, MemoryScope.liveScopedBytes(), "nothing of the step stays allocated");
                    assertEquals(warmPeak, peak, "each step needs what the first one did");
                }
            }
        }
    }

    @Test
    void aTensorOfAClosedScopeCannotBeReadEvenWhenItsMemoryIsReused() {
        Tensor old;
        try (MemoryScope scope = MemoryScope.open()) {
            old = Tensor.of(Device.CPU, new float[] {1, 2, 3}, 3);
        }
        assertThrows(IllegalStateException.class, () -> old.getFloat(0));
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor now = Tensor.of(Device.CPU, new float[] {4, 5, 6}, 3);
            if (MemoryScope.poolStats().pooling()) {
                assertEquals(old.data().address(), now.data().address(), "the next scope reuses the memory");
            }
            assertThrows(IllegalStateException.class, () -> old.getFloat(0));
            assertThrows(IllegalStateException.class, old::toFloatArray);
            assertThrows(
                    IllegalStateException.class, () -> Backends.of(Device.CPU).copy(old, now), "nor a kernel");
            assertThrows(
                    IllegalStateException.class, () -> old.data().asSlice(0, 4).get(JAVA_FLOAT, 0));
            assertEquals(4f, now.getFloat(0));
        }
    }

    @Test
    void reusedMemoryIsNotZeroedButZerosWritesItsZeros() {
        long address;
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor t = Tensor.empty(Device.CPU, DType.F32, 1000);
            Backends.of(Device.CPU).fill(t, 7f);
            address = t.data().address();
        }
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor e = Tensor.empty(Device.CPU, DType.F32, 1000);
            if (MemoryScope.poolStats().pooling()) {
                assertEquals(address, e.data().address());
            }
            if (Boolean.getBoolean("sbora.memory.poison")) {
                assertTrue(Float.isNaN(e.getFloat(0)) && Float.isNaN(e.getFloat(999)), "poisoned: " + e);
            }
        }
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor z = Tensor.zeros(Device.CPU, 1000);
            for (float v : z.toFloatArray()) {
                assertEquals(0f, v);
            }
        }
    }

    @Test
    void peakBytesCountsTheScopesOpenedInside() {
        assumeTrue(MemoryScope.poolStats().pooling());
        long mib = 1 << 20;
        try (MemoryScope outer = MemoryScope.open()) {
            Tensor.zeros(Device.CPU, 10); // the first small tensor takes a 1 MiB slab
            assertEquals(mib, outer.peakBytes());
            try (MemoryScope inner = MemoryScope.open()) {
                Tensor.zeros(Device.CPU, 1 << 18); // 1 MiB: a block of its own
                assertEquals(mib, inner.peakBytes());
            }
            assertEquals(2 * mib, outer.peakBytes());
            Tensor.zeros(Device.CPU, 10); // cut from the outer scope's slab
            assertEquals(2 * mib, outer.peakBytes());
        }
    }

    @Test
    void aScopesArenaIsConfinedAndClosesOnlyWithTheScope() throws InterruptedException {
        try (MemoryScope scope = MemoryScope.open()) {
            assertThrows(
                    UnsupportedOperationException.class, () -> scope.arena().close());
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread other = new Thread(() -> {
                try {
                    scope.arena().allocate(16);
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            other.start();
            other.join();
            assertTrue(thrown.get() instanceof WrongThreadException, String.valueOf(thrown.get()));
            Tensor t = Tensor.zeros(Device.CPU, 4);
            assertTrue(t.data().scope().isAlive());
        }
    }
}
