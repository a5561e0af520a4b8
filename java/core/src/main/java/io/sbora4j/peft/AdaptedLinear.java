package io.sbora4j.peft;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.nn.Linear;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A frozen {@link Linear} with an adapter beside it: the unit every adapter method plugs into, in PEFT's shape
 * (wrap the base layer; forward, merge, unmerge; the base weight never trains).
 *
 * <pre>{@code
 * AdaptedLinear layer = AdaptedLinear.attach(base, AdapterConfig.of(AdapterMethod.SBORA_FA, 16, 32), arena);
 * Tensor y = layer.forward(x);     // x·Wᵀ + s·x[:, idx]·Bᵀ
 * layer.merge();                   // W[:, idx] += s·B, the adapter is now folded in
 * }</pre>
 */
public final class AdaptedLinear implements LinearLayer {

    private final FrozenLinear base;
    private final Adapter adapter;
    private final FrozenBase frozen;
    private boolean merged;
    private boolean training = true;

    private AdaptedLinear(FrozenLinear base, Adapter adapter) {
        this.base = base;
        this.adapter = adapter;
        this.frozen = FrozenBase.of(base);
    }

    /**
     * Attaches the adapter {@code cfg} describes to {@code base}, allocating its tensors in {@code arena}. The
     * layer's name (its path) seeds index selection and initialisation.
     */
    public static AdaptedLinear attach(FrozenLinear base, AdapterConfig cfg, Arena arena) {
        if (base instanceof Linear l && l.weight().requiresGrad()) {
            throw new IllegalArgumentException("layer '" + base.name() + "': the base weight must be frozen");
        }
        Tensor w = base.denseWeight();
        if (w.dtype() != io.sbora4j.tensor.DType.F32 && cfg.method() == AdapterMethod.DORA) {
            throw new IllegalArgumentException("layer '" + base.name() + "': DoRA needs an f32 base weight (its "
                    + "weight norm runs in f32 only); a " + w.dtype().name().toLowerCase(java.util.Locale.ROOT)
                    + " layer takes lora, lora-fa, sbora-fa or sbora-fb");
        }
        Adapter adapter = Adapters.create(cfg, base.name(), base.outFeatures(), base.inFeatures(), w.device(), arena);
        if (adapter instanceof DoraAdapter) {
            Backends.of(w.device()).rowNorm(w, adapter.tensors().get("magnitude"));
        }
        return new AdaptedLinear(base, adapter);
    }

    public FrozenLinear base() {
        return base;
    }

    @Override
    public FrozenLinear frozen() {
        return base;
    }

    public Adapter adapter() {
        return adapter;
    }

    @Override
    public String name() {
        return base.name();
    }

    @Override
    public int inFeatures() {
        return base.inFeatures();
    }

    @Override
    public int outFeatures() {
        return base.outFeatures();
    }

    public boolean isMerged() {
        return merged;
    }

    /** x of shape (..., in) to y of shape (..., out); the input is checked as {@link Linear#flatten} says. */
    @Override
    public Tensor forward(Tensor x) {
        Tensor x2 = base.flatten(x);
        Tensor y = merged ? frozenForward(x2) : adapter.forward(x2, frozen, training);
        return base.unflatten(y, x);
    }

    /**
     * For benchmarks: the adapted forward (and, through autograd, backward) of a (tokens x in) input with the two
     * frozen GEMMs replaced by the buffers {@code y} (tokens x out) and {@code dx} (tokens x in), so that only the
     * adapter path is timed. The scan for non-finite input, which the frozen layer does too, is left out with
     * them. See {@link FrozenBase#withoutGemms}.
     */
    public Tensor forwardAdapterPathOnly(Tensor x, Tensor y, Tensor dx) {
        return adapter.forward(base.flattenUnchecked(x), FrozenBase.withoutGemms(base.denseWeight(), y, dx), training);
    }

    /** The merged layer's forward: the frozen GEMM, with dx through it when x needs a gradient. */
    private Tensor frozenForward(Tensor x2) {
        if (base instanceof Linear l) {
            return l.forwardRows(x2);
        }
        Tensor y = base.forwardRaw(x2);
        return io.sbora4j.autograd.Autograd.record(y, "frozen_linear", java.util.List.of(x2), java.util.List.of(),
                dy -> new Tensor[] {base.backwardRaw(dy)});
    }

    /** Folds the adapter into the base weight; forward then costs one GEMM. */
    public void merge() {
        if (merged) {
            throw new IllegalStateException("layer '" + name() + "' is already merged");
        }
        checkFinite();
        try (NoGrad ignored = NoGrad.enter()) {
            base.mergeDelta(adapter::merge);
        }
        merged = true;
    }

    /** Restores the base weight (within float rounding: W + s·ΔW - s·ΔW). */
    public void unmerge() {
        if (!merged) {
            throw new IllegalStateException("layer '" + name() + "' is not merged");
        }
        try (NoGrad ignored = NoGrad.enter()) {
            base.unmergeDelta(adapter::unmerge);
        }
        merged = false;
    }

    private void checkFinite() {
        Backend be = Backends.of(base.denseWeight().device());
        for (Tensor t : adapter.trainable()) {
            long bad = be.countNonFinite(t);
            if (bad > 0) {
                throw new IllegalStateException("layer '" + name() + "': adapter tensor " + t.name() + " has " + bad
                        + " non-finite values; refusing to merge it into the weight");
            }
        }
    }

    public List<Tensor> trainable() {
        return adapter.trainable();
    }

    @Override
    public Map<String, Tensor> namedTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("weight", base.denseWeight());
        adapter.tensors().forEach(m::put);
        return m;
    }

    @Override
    public void train(boolean on) {
        this.training = on;
    }
}
