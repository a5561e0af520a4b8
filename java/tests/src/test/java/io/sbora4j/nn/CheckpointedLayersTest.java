package io.sbora4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.autograd.NoGrad;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link LlamaModel#checkpointActivations}: the loss and every gradient equal those of the model that keeps its
 * activations (up to the order of the norms' reductions: a checkpointed layer computes its input norm on its own,
 * not fused with the previous residual add), for adapters and for pre-training, and a step's scope holds far less.
 */
class CheckpointedLayersTest {

    private static final int[] IDS = {1, 7, 30, 2, 9, 12, 5, 8, 3, 3, 36, 0, 17, 21};
    private static final int[] TARGETS = {7, 30, 2, 9, -100, 5, 8, -100, 3, 36, 0, 17, 21, 4};
    private static final LlamaConfig CONFIG = new LlamaConfig(37, 32, 48, 3, 4, 2, 1e-5, 10000, 32, false);

    static Stream<Arguments> devicesAndMethods() {
        return Stream.of(Device.CPU, Device.REFERENCE)
                .flatMap(d -> Stream.of(AdapterMethods.SBORA_FA, AdapterMethods.SBORA_FB, AdapterMethods.LORA)
                        .map(m -> Arguments.of(d, m)));
    }

    @ParameterizedTest
    @MethodSource("devicesAndMethods")
    void adaptersGetTheSameGradients(Device d, AdapterMethod method) {
        LlamaModel model = LlamaModel.random(CONFIG, 11, d, Arena.ofAuto());
        var peft = PeftModel.inject(model, AdapterConfig.of(method, 4, 8), Arena.ofAuto());
        for (Tensor t : peft.trainable()) { // non-zero factors, so that every gradient depends on every layer
            for (long i = 0; i < t.numel(); i++) {
                t.setFloat(i, (float) Math.sin(i + 3 * t.numel()) * 0.05f);
            }
        }
        compare(model, peft.trainable(), d);
    }

    @Test
    void preTrainingGetsTheSameGradients() {
        LlamaModel model = LlamaModel.random(CONFIG, 12, Device.CPU, Arena.ofAuto());
        model.setTrainable(true);
        compare(model, model.trainableWeights(), Device.CPU);
    }

    @Test
    void bf16ProjectionsGetTheSameGradients() {
        LlamaModel model = LlamaModel.random(CONFIG, 13, Device.CPU, Arena.ofAuto());
        model.useBf16Projections(Arena.ofAuto());
        var peft = PeftModel.inject(model, AdapterConfig.of(AdapterMethods.SBORA_FA, 4, 8), Arena.ofAuto());
        for (Tensor t : peft.trainable()) {
            for (long i = 0; i < t.numel(); i++) {
                t.setFloat(i, (float) Math.cos(i + t.numel()) * 0.05f);
            }
        }
        compare(model, peft.trainable(), Device.CPU);
    }

    private static void compare(LlamaModel model, List<Tensor> params, Device d) {
        assertFalse(model.checkpointsActivations(), "off by default");
        Result kept = run(model, params, d);
        model.checkpointActivations(true);
        try {
            Result recomputed = run(model, params, d);
            kept.assertClose(recomputed);
            // without a graph (evaluation) the checkpointed layers are plain calls
            try (MemoryScope ignored = MemoryScope.open();
                    NoGrad ng = NoGrad.enter()) {
                float plain = model.loss(Tensor.ofInts(d, IDS, 2, 7), Tensor.ofInts(d, TARGETS, 14), -100)
                        .item();
                assertEquals(kept.loss, plain, 1e-5 * Math.max(1, Math.abs(plain)));
            }
        } finally {
            model.checkpointActivations(false);
        }
    }

    private record Result(float loss, List<float[]> grads, long stepBytes) {
        void assertClose(Result other) {
            assertEquals(loss, other.loss, 1e-5 * Math.max(1, Math.abs(loss)), "loss");
            for (int k = 0; k < grads.size(); k++) {
                float[] a = grads.get(k), b = other.grads.get(k);
                double scale = 0;
                for (float v : a) {
                    scale = Math.max(scale, Math.abs(v));
                }
                assertTrue(scale > 0, "gradient " + k + " is zero");
                for (int i = 0; i < a.length; i++) {
                    assertTrue(
                            Math.abs(a[i] - b[i]) <= 1e-4 * scale,
                            "gradient " + k + " element " + i + ": " + a[i] + " vs " + b[i]);
                }
            }
        }
    }

    private static Result run(LlamaModel model, List<Tensor> params, Device d) {
        for (Tensor p : params) {
            p.setGrad(null);
        }
        try (MemoryScope step = MemoryScope.open()) {
            Tensor l = model.loss(Tensor.ofInts(d, IDS, 2, 7), Tensor.ofInts(d, TARGETS, 14), -100);
            float v = l.item();
            Autograd.backward(l);
            List<float[]> grads = new ArrayList<>();
            for (Tensor p : params) {
                grads.add(
                        p.grad() == null ? new float[(int) p.numel()] : p.grad().toFloatArray());
            }
            return new Result(v, grads, step.bytesAllocated());
        }
    }

    /**
     * With four layers of hidden 64 over 512 tokens, a step's scope keeps each layer's input and not its
     * activations: what it allocates drops to well under half (the recomputation's temporaries live in scopes of
     * their own, one layer at a time).
     */
    @Test
    void aStepsScopeHoldsLayerInputsOnly() {
        LlamaConfig cfg = new LlamaConfig(50, 64, 176, 4, 4, 2, 1e-5, 10000, 256, false);
        LlamaModel model = LlamaModel.random(cfg, 14, Device.CPU, Arena.ofAuto());
        var peft = PeftModel.inject(model, AdapterConfig.of(AdapterMethods.SBORA_FA, 8, 16), Arena.ofAuto());
        int tokens = 2 * 256;
        int[] ids = new int[tokens], targets = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = (i * 7) % 50;
            targets[i] = (i * 13) % 50;
        }
        long[] bytes = new long[2];
        for (int k = 0; k < 2; k++) {
            model.checkpointActivations(k == 1);
            try (MemoryScope step = MemoryScope.open()) {
                Tensor loss = model.loss(
                        Tensor.ofInts(Device.CPU, ids, 2, 256), Tensor.ofInts(Device.CPU, targets, tokens), -100);
                Autograd.backward(loss);
                bytes[k] = step.bytesAllocated();
            }
            peft.trainable().forEach(p -> p.setGrad(null));
        }
        model.checkpointActivations(false);
        assertTrue(2 * bytes[1] < bytes[0], "kept " + bytes[0] + " bytes, checkpointed " + bytes[1]);
    }
}
