package io.sbora4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.nn.Linear;
import io.sbora4j.ops.Losses;
import io.sbora4j.optim.AdamW;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
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
}
