package io.sbora4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.autograd.NoGrad;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.quant.MergeMode;
import io.sbora4j.quant.Quantization;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Activations released after their last use in the forward and temporaries given back during the backward
 * ({@link MemoryScope#release}, {@link Autograd#backward}) change nothing but memory: the loss and every gradient of
 * a LLaMA step are bit for bit those of a scope that keeps everything ({@link MemoryScope#openRetaining}), for
 * every method, f32, bf16 and NF4 projections, with and without activation checkpointing; the step holds less, and
 * a repeated step takes no new block from the system. The
 * shapes make the activations larger than 128 KiB, the size from which tensors can go back early.
 */
class EarlyReleaseTest {

    /** 2 x 160 tokens: (tokens x hidden) f32 is 160 KiB, (tokens x intermediate) 240 KiB. */
    private static final LlamaConfig CONFIG = new LlamaConfig(37, 128, 192, 2, 4, 2, 1e-5, 10000, 256, false);

    private static final int BATCH = 2, SEQ = 160;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (AdapterMethod m : List.of(
                AdapterMethods.LORA,
                AdapterMethods.LORA_FA,
                AdapterMethods.DORA,
                AdapterMethods.SBORA_FA,
                AdapterMethods.SBORA_FB)) {
            for (String base : List.of("f32", "bf16", "nf4")) {
                if (!base.equals("f32") && m == AdapterMethods.DORA) {
                    continue; // DoRA refuses bf16 and quantised bases
                }
                for (boolean checkpoint : new boolean[] {false, true}) {
                    out.add(Arguments.of(m, base, checkpoint));
                }
            }
        }
        return out.stream();
    }

    /** The loss, every trainable gradient, and the step's peak bytes. */
    private record Step(float loss, List<float[]> grads, long peakBytes) {}

    @ParameterizedTest(name = "{0} {1} checkpoint={2}")
    @MethodSource("cases")
    void aStepComputesTheSameBitsInLessMemory(AdapterMethod method, String base, boolean checkpoint) {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel model = LlamaModel.random(CONFIG, 5, Device.CPU, arena);
            if (base.equals("bf16")) {
                model.useBf16Projections(arena);
            } else if (base.equals("nf4")) {
                Quantization.quantize(model, MergeMode.OVERLAY, arena);
            }
            model.checkpointActivations(checkpoint);
            var peft = PeftModel.inject(model, AdapterConfig.of(method, 4, 8), arena);
            for (Tensor t : peft.trainable()) { // non-zero factors: every gradient depends on every layer
                for (long i = 0; i < t.numel(); i++) {
                    t.setFloat(i, (float) Math.sin(i + 3 * t.numel()) * 0.05f);
                }
            }
            int[] ids = new int[BATCH * SEQ], targets = new int[BATCH * SEQ];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (i * 7 + 3) % CONFIG.vocabSize();
                targets[i] = i % 11 == 0 ? -100 : (i * 5 + 1) % CONFIG.vocabSize();
            }
            Tensor idT = Tensor.ofInts(arena, Device.CPU, ids, BATCH, SEQ);
            Tensor targetT = Tensor.ofInts(arena, Device.CPU, targets, ids.length);
            Step kept = step(model, peft.trainable(), idT, targetT, true);
            Step released = step(model, peft.trainable(), idT, targetT, false);
            assertEquals(Float.floatToIntBits(kept.loss()), Float.floatToIntBits(released.loss()), "loss");
            for (int i = 0; i < kept.grads().size(); i++) {
                assertArrayEquals(kept.grads().get(i), released.grads().get(i), "gradient " + i);
            }
            assertTrue(
                    released.peakBytes() < kept.peakBytes(),
                    "released " + released.peakBytes() + " bytes at the peak, kept " + kept.peakBytes());
            // the blocks given back mid-step serve the rest of it, and the next step takes nothing new
            step(model, peft.trainable(), idT, targetT, false);
            long taken = MemoryScope.poolStats().blocksFromSystem();
            step(model, peft.trainable(), idT, targetT, false);
            assertEquals(taken, MemoryScope.poolStats().blocksFromSystem(), "a repeated step took new blocks");

            float[] logitsKept, logitsReleased;
            try (MemoryScope s = MemoryScope.openRetaining();
                    NoGrad ng = NoGrad.enter()) {
                logitsKept = model.logits(idT).toFloatArray();
            }
            try (MemoryScope s = MemoryScope.open();
                    NoGrad ng = NoGrad.enter()) {
                logitsReleased = model.logits(idT).toFloatArray();
            }
            assertArrayEquals(logitsKept, logitsReleased, "inference logits");
        }
    }

    private static Step step(LlamaModel model, List<Tensor> trainable, Tensor ids, Tensor targets, boolean retain) {
        for (Tensor t : trainable) {
            t.setGrad(null);
        }
        float loss;
        long peak;
        try (MemoryScope s = retain ? MemoryScope.openRetaining() : MemoryScope.open()) {
            Tensor l = model.loss(ids, targets, -100);
            Autograd.backward(l);
            loss = l.item();
            peak = s.peakBytes();
        }
        List<float[]> grads = new ArrayList<>();
        for (Tensor t : trainable) {
            grads.add(t.grad().toFloatArray());
        }
        return new Step(loss, grads, peak);
    }
}
