package io.sbora4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.ops.Losses;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link LlamaModel#loss} (the head and the cross-entropy a chunk of rows at a time) against the cross-entropy of
 * the full {@link LlamaModel#logits}: the same value and the same gradients, for chunks that do and do not divide the
 * token count, and without holding the logits.
 */
class ChunkedLossTest {

    private static final int[] IDS = {1, 7, 30, 2, 9, 12, 5, 8, 3, 3, 36, 0, 17, 21};
    private static final int[] TARGETS = {7, 30, 2, 9, -100, 5, 8, -100, 3, 36, 0, 17, 21, 4};

    static Stream<Arguments> devicesAndTying() {
        return Stream.of(Device.CPU, Device.REFERENCE)
                .flatMap(d -> Stream.of(Arguments.of(d, false), Arguments.of(d, true)));
    }

    private static LlamaConfig config(boolean tied) {
        return new LlamaConfig(37, 32, 48, 2, 4, 2, 1e-5, 10000, 32, tied);
    }

    /** Pre-training: every weight, the head (or the tied embedding) included, gets a gradient. */
    @ParameterizedTest
    @MethodSource("devicesAndTying")
    void equalsTheLossOfTheFullLogitsWithEveryWeightTrained(Device d, boolean tied) {
        LlamaModel model = LlamaModel.random(config(tied), 5, d, Arena.ofAuto());
        model.setTrainable(true);
        compare(model, model.trainableWeights(), d);
    }

    /** Fine-tuning: a frozen model with SBoRA-FA adapters; only h's gradient flows through the head. */
    @ParameterizedTest
    @MethodSource("devicesAndTying")
    void equalsTheLossOfTheFullLogitsForAdapters(Device d, boolean tied) {
        LlamaModel model = LlamaModel.random(config(tied), 6, d, Arena.ofAuto());
        var peft = PeftModel.inject(model, AdapterConfig.of(AdapterMethods.SBORA_FA, 4, 8), Arena.ofAuto());
        // non-zero B, so that every adapter's gradient depends on the loss's dh
        for (Tensor t : peft.trainable()) {
            for (long i = 0; i < t.numel(); i++) {
                t.setFloat(i, (float) Math.sin(i + t.numel()) * 0.05f);
            }
        }
        compare(model, peft.trainable(), d);
    }

    private static void compare(LlamaModel model, List<Tensor> params, Device d) {
        Tensor ids = Tensor.ofInts(d, IDS, 2, 7), targets = Tensor.ofInts(d, TARGETS, 14);
        Result full = run(params, () -> Losses.crossEntropy(model.logits(ids), targets, -100));
        for (int chunk : new int[] {1, 2, 3, 4, 5, 12, 13, 14, 100}) {
            Result chunked = run(params, () -> model.loss(ids, targets, -100, chunk));
            full.assertClose(chunked, "chunks of " + chunk);
        }
        full.assertClose(run(params, () -> model.loss(ids, targets, -100)), "default chunks");
        Tensor none = Tensor.ofInts(d, new int[14], 14);
        int[] ignored = new int[14];
        Arrays.fill(ignored, -100);
        Tensor allIgnored = Tensor.ofInts(d, ignored, 14);
        run(params, () -> Losses.crossEntropy(model.logits(ids), none, -100))
                .assertClose(run(params, () -> model.loss(ids, none, -100, 4)), "every target 0");
        Result zero = run(params, () -> model.loss(ids, allIgnored, -100, 4));
        assertEquals(0f, zero.loss);
        for (float[] g : zero.grads) {
            for (float v : g) {
                assertEquals(0f, v, "gradient with every target ignored");
            }
        }
    }

    private record Result(float loss, List<float[]> grads) {
        void assertClose(Result other, String what) {
            assertEquals(loss, other.loss, 1e-5 * Math.max(1, Math.abs(loss)), what + ": loss");
            for (int k = 0; k < grads.size(); k++) {
                float[] a = grads.get(k), b = other.grads.get(k);
                double scale = 0;
                for (float v : a) {
                    scale = Math.max(scale, Math.abs(v));
                }
                for (int i = 0; i < a.length; i++) {
                    assertTrue(
                            Math.abs(a[i] - b[i]) <= 1e-5 * Math.max(1e-3, scale),
                            what + ": gradient " + k + " element " + i + ": " + a[i] + " vs " + b[i]);
                }
            }
        }
    }

    private static Result run(List<Tensor> params, Supplier<Tensor> loss) {
        for (Tensor p : params) {
            p.setGrad(null);
        }
        try (MemoryScope ignored = MemoryScope.open()) {
            Tensor l = loss.get();
            float v = l.item();
            Autograd.backward(l);
            List<float[]> grads = new ArrayList<>();
            for (Tensor p : params) {
                grads.add(
                        p.grad() == null ? new float[(int) p.numel()] : p.grad().toFloatArray());
            }
            return new Result(v, grads);
        }
    }

    /**
     * The step's scope holds no logits: the full loss allocates the (tokens x vocab) logits and their gradient
     * there, the chunked one a chunk at a time in scopes of its own.
     */
    @Test
    void theStepsScopeHoldsNoLogits() {
        LlamaConfig cfg = new LlamaConfig(4000, 32, 48, 1, 4, 2, 1e-5, 10000, 64, false);
        LlamaModel model = LlamaModel.random(cfg, 7, Device.CPU, Arena.ofAuto());
        var peft = PeftModel.inject(model, AdapterConfig.of(AdapterMethods.SBORA_FA, 4, 8), Arena.ofAuto());
        int tokens = 2 * 64;
        int[] ids = new int[tokens], targets = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = (i * 37) % 4000;
            targets[i] = (i * 101) % 4000;
        }
        long logitsBytes = 4L * tokens * cfg.vocabSize();
        long[] bytes = new long[2];
        for (int k = 0; k < 2; k++) {
            try (MemoryScope step = MemoryScope.open()) {
                Tensor in = Tensor.ofInts(Device.CPU, ids, 2, 64), t = Tensor.ofInts(Device.CPU, targets, tokens);
                Tensor loss = k == 0 ? Losses.crossEntropy(model.logits(in), t, -100) : model.loss(in, t, -100, 16);
                Autograd.backward(loss);
                bytes[k] = step.bytesAllocated();
            }
            peft.trainable().forEach(p -> p.setGrad(null));
        }
        assertTrue(
                bytes[1] + 19 * logitsBytes / 10 <= bytes[0],
                "full loss " + bytes[0] + " bytes, chunked " + bytes[1] + ", logits " + logitsBytes);
    }

    @Test
    void chunksHoldAtMostSixtyFourMebibytesOfLogits() {
        assertEquals(131, LlamaModel.lossChunkRows(128_000, 4096));
        assertEquals(524, LlamaModel.lossChunkRows(32_000, 4096));
        assertEquals(1024, LlamaModel.lossChunkRows(320, 1024)); // one chunk: the whole batch
        assertEquals(1, LlamaModel.lossChunkRows(100_000_000, 4096));
    }
}
