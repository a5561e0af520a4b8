package io.sbora4j.serve;

import io.sbora4j.nn.LinearLayer;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.TensorSpec;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/** A tiny LLaMA and trained-looking adapters for it, built in memory. */
final class ServeFixtures {

    /** vocab 61, hidden 32, MLP 48, 2 layers, 4 heads (2 kv): every projection is small and not square. */
    static final LlamaConfig CFG = new LlamaConfig(61, 32, 48, 2, 4, 2, 1e-5, 10000, 32, false);

    private ServeFixtures() {}

    /**
     * The stored tensors of an adapter of {@code method} at rank r for every layer {@code config} targets: factors
     * Gaussian with std 0.05 (large enough that every method visibly changes the logits), indices a random set of r
     * distinct inputs (SBoRA-FA) or outputs (SBoRA-FB), DoRA's magnitudes near 1.
     */
    static Map<String, Map<String, Tensor>> randomTensors(
            LlamaModel model, AdapterConfig config, SplittableRandom rng) {
        AdapterMethod m = config.method();
        Map<String, Map<String, Tensor>> layers = new LinkedHashMap<>();
        for (var e : model.linearLayers().entrySet()) {
            if (!config.targets(e.getKey())) {
                continue;
            }
            LinearLayer l = e.getValue();
            Map<String, Tensor> t = new LinkedHashMap<>();
            for (var spec :
                    m.storedTensors(l.outFeatures(), l.inFeatures(), config.r()).entrySet()) {
                TensorSpec s = spec.getValue();
                int[] dims = s.shape().dims();
                if (s.dtype() == DType.I32) {
                    int range = m == AdapterMethods.SBORA_FB ? l.outFeatures() : l.inFeatures();
                    List<Integer> all = new ArrayList<>();
                    for (int i = 0; i < range; i++) {
                        all.add(i);
                    }
                    Collections.shuffle(all, new Random(rng.nextLong()));
                    int[] idx = all.subList(0, config.r()).stream()
                            .mapToInt(Integer::intValue)
                            .toArray();
                    Arrays.sort(idx);
                    t.put(spec.getKey(), Tensor.ofInts(Device.CPU, idx, dims));
                } else {
                    float[] v = new float[(int) s.shape().numel()];
                    boolean magnitude = spec.getKey().equals("magnitude");
                    for (int i = 0; i < v.length; i++) {
                        v[i] = magnitude ? (float) (1 + 0.2 * rng.nextDouble()) : (float) (0.05 * gaussian(rng));
                    }
                    t.put(spec.getKey(), Tensor.of(Device.CPU, v, dims));
                }
            }
            layers.put(e.getKey(), t);
        }
        return layers;
    }

    static double gaussian(SplittableRandom rng) {
        double u = Math.max(rng.nextDouble(), 1e-300), w = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
    }

    /** Every projection weight's raw bits, by path. */
    static Map<String, int[]> weightBits(LlamaModel model) {
        Map<String, int[]> m = new LinkedHashMap<>();
        model.linearLayers().forEach((k, v) -> m.put(k, bits(v.frozen().denseWeight())));
        return m;
    }

    /** The raw bits of an f32 or bf16 tensor, one element per int. */
    static int[] bits(Tensor t) {
        Tensor h = t.device().isHost() ? t : t.to(Device.CPU);
        int[] b = new int[(int) h.numel()];
        int bytes = h.dtype().bytes();
        for (int i = 0; i < b.length; i++) {
            b[i] = bytes == 4
                    ? h.data().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i)
                    : h.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i);
        }
        return b;
    }

    /** Token ids (batch, seq), i32, uniform over the vocabulary. */
    static Tensor ids(Device device, SplittableRandom rng, int batch, int seq) {
        int[] v = new int[batch * seq];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextInt(CFG.vocabSize());
        }
        return Tensor.ofInts(device, v, batch, seq);
    }

    /** max |a - b| over max |b|: the error of a relative to the scale of b. */
    static double relError(float[] a, float[] b) {
        double diff = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return diff / Math.max(scale, 1e-30);
    }
}
