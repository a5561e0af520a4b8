package io.sbora4j.peft;

import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A frozen {@link LlamaModel} with adapters injected into the projections a config targets, as PEFT's
 * {@code get_peft_model} does: every targeted {@code Linear} is wrapped in an {@link AdaptedLinear}, everything
 * else stays frozen.
 */
public final class PeftModel {

    private final LlamaModel model;
    private final AdapterConfig config;
    private final Map<String, AdaptedLinear> adapted;

    private PeftModel(LlamaModel model, AdapterConfig config, Map<String, AdaptedLinear> adapted) {
        this.model = model;
        this.config = config;
        this.adapted = adapted;
    }

    /**
     * Freezes {@code model} and attaches the adapter of {@code config} to every projection whose name it targets
     * (e.g. {@code q_proj}), allocating adapter tensors in {@code arena}. No targeted projection is an error.
     */
    public static PeftModel inject(LlamaModel model, AdapterConfig config, Arena arena) {
        model.setTrainable(false);
        Map<String, AdaptedLinear> adapted = new LinkedHashMap<>();
        model.replaceProjections(layer -> {
            if (layer instanceof FrozenLinear frozen && config.targets(frozen.name())) {
                AdaptedLinear a = AdaptedLinear.attach(frozen, config, arena);
                adapted.put(frozen.name(), a);
                return a;
            }
            return layer;
        });
        if (adapted.isEmpty()) {
            throw new IllegalArgumentException("target modules " + config.targetModules()
                    + " match no projection of the model (names look like " + model.projections().keySet().iterator()
                    .next() + ")");
        }
        return new PeftModel(model, config, adapted);
    }

    public LlamaModel model() {
        return model;
    }

    public AdapterConfig config() {
        return config;
    }

    /** The adapted layers by path. */
    public Map<String, AdaptedLinear> adapted() {
        return Collections.unmodifiableMap(adapted);
    }

    /** Every trainable tensor of every adapter, in model order. */
    public List<Tensor> trainable() {
        List<Tensor> out = new ArrayList<>();
        adapted.values().forEach(a -> out.addAll(a.trainable()));
        return out;
    }

    /** Trainable adapter parameters against all parameters (base + adapters), as PEFT prints them. */
    public ParameterReport report() {
        long trainable = 0;
        for (Tensor t : trainable()) {
            trainable += t.numel();
        }
        return new ParameterReport(trainable, model.parameterCount() + trainable);
    }

    /** Folds every adapter into its weight. */
    public void mergeAll() {
        adapted.values().forEach(AdaptedLinear::merge);
    }

    /** How many elements of the adapted weights a merge changed, bit for bit, of how many. */
    public record MergeCount(long changed, long total) {
        public double percent() {
            return total == 0 ? 0 : 100.0 * changed / total;
        }
    }

    /** {@link #mergeAll()}, comparing every adapted weight before and after bit for bit. */
    public MergeCount mergeAllAndCount() {
        Map<String, float[]> before = new LinkedHashMap<>();
        adapted.forEach((k, a) -> before.put(k, a.base().denseWeight().toFloatArray()));
        mergeAll();
        long changed = 0, total = 0;
        for (var e : adapted.entrySet()) {
            float[] b = before.get(e.getKey()), now = e.getValue().base().denseWeight().toFloatArray();
            total += b.length;
            for (int i = 0; i < b.length; i++) {
                changed += Float.floatToRawIntBits(b[i]) != Float.floatToRawIntBits(now[i]) ? 1 : 0;
            }
        }
        return new MergeCount(changed, total);
    }

    /** Takes every adapter back out. */
    public void unmergeAll() {
        adapted.values().forEach(AdaptedLinear::unmerge);
    }

    public void train(boolean training) {
        model.train(training);
    }

    /**
     * Puts back the plain projections (after a merge, the weights keep the adapters' update): the model is a plain
     * LlamaModel again.
     */
    public LlamaModel unload() {
        model.replaceProjections(LinearLayer::frozen);
        return model;
    }
}
