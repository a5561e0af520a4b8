package io.sbora4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.ops.Losses;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** A LLaMA whose projections compute in bf16 gives the f32 model's logits within bf16 rounding, and trains. */
class Bf16LlamaModelTest {

    private static final LlamaConfig CFG = new LlamaConfig(61, 32, 48, 2, 4, 2, 1e-5, 10000, 32, false);

    private static Tensor ids() {
        return Tensor.ofInts(Device.CPU, new int[] {1, 5, 9, 60, 2, 3, 44, 7}, 2, 4);
    }

    @Test
    void logitsMatchTheF32ModelWithinBf16Rounding() {
        Arena arena = Arena.ofAuto();
        LlamaModel f32 = LlamaModel.random(CFG, 3, Device.CPU, arena);
        LlamaModel bf16 = LlamaModel.random(CFG, 3, Device.CPU, arena);
        bf16.useBf16Projections(arena);
        assertEquals(DType.BF16, bf16.projectionType());
        assertEquals(
                DType.BF16,
                ((Linear) bf16.linearLayers().values().iterator().next())
                        .weight()
                        .dtype());
        float[] a = f32.logits(ids()).toFloatArray(), b = bf16.logits(ids()).toFloatArray();
        double max = 0, diff = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i]));
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        assertTrue(diff <= 0.03 * Math.max(1, max), "max |Δ| " + diff + " against max |logit| " + max);
    }

    @Test
    void adaptersOnBf16ProjectionsReceiveF32Gradients() {
        Arena arena = Arena.ofAuto();
        LlamaModel m = LlamaModel.random(CFG, 4, Device.CPU, arena);
        m.useBf16Projections(arena);
        var peft = PeftModel.inject(m, AdapterConfig.of(AdapterMethods.SBORA_FA, 4, 8), arena);
        Tensor logits = m.logits(ids());
        int[] targets = {5, 9, 60, 2, 3, 44, 7, 1};
        Tensor loss = Losses.crossEntropy(logits, Tensor.ofInts(Device.CPU, targets, 8), -100);
        Autograd.backward(loss);
        double norm = 0;
        for (Tensor t : peft.trainable()) {
            assertEquals(DType.F32, t.grad().dtype());
            for (float g : t.grad().toFloatArray()) {
                norm += g * g;
            }
        }
        assertTrue(norm > 0 && Double.isFinite(norm), "gradients reach the adapters: " + norm);
    }

    @Test
    void bf16IsSetBeforeAdaptersAndDoraIsRefused() {
        Arena arena = Arena.ofAuto();
        LlamaModel m = LlamaModel.random(CFG, 5, Device.CPU, arena);
        PeftModel.inject(m, AdapterConfig.of(AdapterMethods.LORA, 4, 8), arena);
        assertThrows(IllegalStateException.class, () -> m.useBf16Projections(arena));
        LlamaModel d = LlamaModel.random(CFG, 5, Device.CPU, arena);
        d.useBf16Projections(arena);
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> PeftModel.inject(d, AdapterConfig.of(AdapterMethods.DORA, 4, 8), arena));
        assertTrue(e.getMessage().contains("DoRA needs an f32 base weight"), e.getMessage());
    }
}
