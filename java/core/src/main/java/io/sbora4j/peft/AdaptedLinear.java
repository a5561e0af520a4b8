package io.sbora4j.peft;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.autograd.NoGrad;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.nn.Linear;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A frozen linear layer with named adapters beside it, in PEFT's shape: wrap the base layer; add adapters by name;
 * forward through the active one (or one chosen per call); merge and unmerge; the base weight never trains.
 *
 * <pre>{@code
 * AdaptedLinear layer = AdaptedLinear.attach(base, AdapterConfig.of(AdapterMethods.SBORA_FA, 16, 32), arena);
 * Tensor y = layer.forward(x);     // x·Wᵀ + s·x[:, idx]·Bᵀ, through the adapter "default"
 * layer.addAdapter("math", otherConfig, arena);
 * Tensor z = layer.forward(x, "math");
 * layer.merge();                   // W[:, idx] += s·B for the active adapter: forward is one GEMM again
 * }</pre>
 *
 * <p>Serving many adapters over one base: {@link #swapIn} merges one adapter keeping a copy of exactly what the merge
 * overwrites ({@link #swapOut} puts those bits back), and while an {@link AdapterRouting} is open on the calling
 * thread, {@link #forward(Tensor)} routes each row of the batch through its own adapter.
 *
 * <p>Not thread-safe: a layer is used by one thread at a time.
 */
public final class AdaptedLinear implements LinearLayer {

    /** The name of the adapter {@link #attach} adds, as PEFT calls it. */
    public static final String DEFAULT = "default";

    private final FrozenLinear base;
    private final Map<String, Adapter> adapters = new LinkedHashMap<>();
    private String active;
    /** The adapter folded into the base weight, or null. */
    private String merged;
    /** What {@link #swapIn} overwrote, while an adapter is swapped in; null after a plain {@link #merge}. */
    private WeightBackup backup;

    private boolean training = true;

    private AdaptedLinear(FrozenLinear base) {
        if (base instanceof Linear l && l.weight().requiresGrad()) {
            throw new IllegalArgumentException("layer '" + base.name() + "': the base weight must be frozen");
        }
        this.base = Objects.requireNonNull(base, "base");
    }

    /** {@code base} with no adapter yet: forward is the base layer's until one is added. */
    public static AdaptedLinear wrap(FrozenLinear base) {
        return new AdaptedLinear(base);
    }

    /**
     * {@code base} with the adapter {@code config} describes, named {@value #DEFAULT} and active, its tensors
     * allocated in {@code arena}. The layer's name (its path) seeds index selection and initialisation.
     */
    public static AdaptedLinear attach(FrozenLinear base, AdapterConfig config, Arena arena) {
        AdaptedLinear layer = new AdaptedLinear(base);
        layer.addAdapter(DEFAULT, config, arena);
        return layer;
    }

    /**
     * Adds the adapter {@code config} describes under {@code name}, its tensors in {@code arena} (whose closing ends
     * it; remove it first). The first adapter added becomes the active one.
     *
     * @throws IllegalArgumentException for a name in use, a rank the layer cannot take, or a base the method refuses
     */
    public Adapter addAdapter(String name, AdapterConfig config, Arena arena) {
        requireName(name);
        if (adapters.containsKey(name)) {
            throw new IllegalArgumentException("layer '" + name() + "' already has an adapter named '" + name + "'");
        }
        AdapterMethod m = config.method();
        int max = m.maxRank(base.outFeatures(), base.inFeatures());
        if (config.r() > max) {
            throw new IllegalArgumentException("layer '" + name() + "': r=" + config.r() + " exceeds " + max
                    + ", the largest rank " + m.id() + " allows for a " + base.outFeatures() + "x"
                    + base.inFeatures() + " weight");
        }
        m.checkBase(base);
        Adapter a = m.create(config, base, arena);
        adapters.put(name, a);
        if (active == null) {
            active = name;
        }
        return a;
    }

    /** Removes the adapter {@code name} (its memory is freed with the arena it was created in). */
    public void removeAdapter(String name) {
        requireAdapter(name);
        if (name.equals(merged)) {
            throw new IllegalStateException(
                    "layer '" + name() + "': adapter '" + name + "' is merged; unmerge it first");
        }
        adapters.remove(name);
        if (name.equals(active)) {
            active = adapters.isEmpty() ? null : adapters.keySet().iterator().next();
        }
    }

    /** Makes {@code name} the adapter {@link #forward(Tensor)} goes through; null: none, the base alone. */
    public void setActive(String name) {
        if (name == null) {
            if (merged != null) {
                throw new IllegalStateException("layer '" + name() + "': adapter '" + merged + "' is merged; unmerge"
                        + " it before running the base alone");
            }
            active = null;
            return;
        }
        requireAdapter(name);
        if (merged != null && !merged.equals(name)) {
            throw new IllegalStateException("layer '" + name() + "': adapter '" + merged + "' is merged; unmerge it"
                    + " before activating '" + name + "'");
        }
        active = name;
    }

    /** The active adapter's name, or null when the layer has none. */
    public String activeName() {
        return active;
    }

    /** The active adapter. */
    public Adapter adapter() {
        if (active == null) {
            throw new IllegalStateException("layer '" + name() + "' has no adapter");
        }
        return adapters.get(active);
    }

    /** The adapter named {@code name}. */
    public Adapter adapter(String name) {
        requireAdapter(name);
        return adapters.get(name);
    }

    /** Every adapter by name, in the order they were added. */
    public Map<String, Adapter> adapters() {
        return Collections.unmodifiableMap(adapters);
    }

    public FrozenLinear base() {
        return base;
    }

    @Override
    public FrozenLinear frozen() {
        return base;
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

    /** Whether an adapter is folded into the base weight. */
    public boolean isMerged() {
        return merged != null;
    }

    /**
     * x of shape (..., in) to y of shape (..., out) through the active adapter (the base alone without one), or,
     * while an {@link AdapterRouting} is open on this thread, each row through the adapter the routing names.
     */
    @Override
    public Tensor forward(Tensor x) {
        AdapterRouting routing = AdapterRouting.current();
        return routing == null ? forward(x, active) : forward(x, routing);
    }

    /**
     * A mixed batch: x (..., in), flattened to the routing's rows, through one base GEMM and then each adapter over
     * its own rows (rows routed to none, or to an adapter this layer lacks, get the base output). Not recorded by
     * autograd; refused while an adapter is merged, since the merged weight is no longer the base the other rows
     * need.
     */
    public Tensor forward(Tensor x, AdapterRouting routing) {
        Tensor x2 = base.flatten(x);
        if (x2.dim(0) != routing.rows()) {
            throw new IllegalArgumentException("layer '" + name() + "': the routing covers " + routing.rows()
                    + " rows but the input has " + x2.dim(0));
        }
        if (merged != null) {
            throw new IllegalStateException("layer '" + name() + "' holds adapter '" + merged + "' merged; a mixed"
                    + " batch needs the base weight: swap it out first");
        }
        Tensor y;
        try (NoGrad ignored = NoGrad.enter()) {
            y = MixedForward.apply(base, adapters, x2, routing);
        }
        return base.unflatten(y, x);
    }

    /**
     * x through the adapter {@code name} (null: the base alone). A merged layer answers only for the adapter it
     * holds, or for none.
     */
    public Tensor forward(Tensor x, String name) {
        Tensor x2 = base.flatten(x);
        Tensor y;
        if (merged != null) {
            if (name != null && !name.equals(merged)) {
                throw new IllegalStateException("layer '" + name() + "' holds adapter '" + merged + "' merged; unmerge"
                        + " it to run '" + name + "'");
            }
            y = frozenForward(x2);
        } else if (name == null) {
            y = frozenForward(x2);
        } else {
            y = adapter(name).forward(x2, base, training);
        }
        return base.unflatten(y, x);
    }

    /** The base layer's forward: the frozen GEMM, with dx through it when x needs a gradient. */
    private Tensor frozenForward(Tensor x2) {
        if (base instanceof Linear l) {
            return l.forwardRows(x2);
        }
        Tensor y = base.forwardRaw(x2);
        return Autograd.record(y, "frozen_linear", List.of(x2), List.of(), dy -> new Tensor[] {base.backwardRaw(dy)});
    }

    /** Folds the active adapter into the base weight; forward then costs one GEMM. */
    public void merge() {
        if (merged != null) {
            throw new IllegalStateException("layer '" + name() + "' is already merged");
        }
        Adapter a = adapter();
        checkFinite(a);
        try (NoGrad ignored = NoGrad.enter()) {
            base.mergeDelta(a::merge);
        }
        merged = active;
    }

    /**
     * Restores the base weight: bit for bit after {@link #swapIn}, within float rounding after {@link #merge}
     * (W + s·ΔW - s·ΔW).
     */
    public void unmerge() {
        if (merged == null) {
            throw new IllegalStateException("layer '" + name() + "' is not merged");
        }
        if (backup != null) {
            swapOut();
            return;
        }
        try (NoGrad ignored = NoGrad.enter()) {
            base.unmergeDelta(adapters.get(merged)::unmerge);
        }
        merged = null;
    }

    /**
     * Merges adapter {@code name} into the base weight after copying out what the merge overwrites: for SBoRA-FA the
     * r columns idx of W, for SBoRA-FB the r rows idx, for LoRA, LoRA-FA and DoRA (dense ΔW) all of W. The adapter
     * becomes the active one and forward costs one GEMM; {@link #swapOut} restores the base bit for bit.
     *
     * @throws IllegalArgumentException for an unknown name, or a base whose weight is not a dense f32 or bf16 tensor
     *                                  (a quantised base: merging re-encodes it, which no copy of r columns undoes)
     * @throws IllegalStateException    if an adapter is merged already, or the adapter holds non-finite values
     */
    public void swapIn(String name) {
        checkSwappable(name);
        Adapter a = adapters.get(name);
        Tensor w = base.denseWeight();
        WeightBackup b = WeightBackup.save(a, w);
        try (NoGrad ignored = NoGrad.enter()) {
            base.mergeDelta(a::merge);
        } catch (RuntimeException e) {
            b.restore(w);
            b.close();
            throw e;
        }
        backup = b;
        merged = name;
        active = name;
    }

    /**
     * Checks that {@link #swapIn}({@code name}) would succeed, changing nothing: so that a model swaps all of its
     * layers or none.
     */
    public void checkSwappable(String name) {
        requireAdapter(name);
        if (merged != null) {
            throw new IllegalStateException(
                    "layer '" + name() + "' holds adapter '" + merged + "' merged; swap it out first");
        }
        if (!(base instanceof Linear l)) {
            throw new IllegalArgumentException(
                    "layer '" + name() + "': its base is a " + base.getClass().getSimpleName()
                            + ", not a dense f32 or bf16 weight; an exact swap cannot restore it (run adapters unmerged)");
        }
        l.weight().requireWritable("swapping an adapter into layer '" + name() + "'");
        checkFinite(adapters.get(name));
    }

    /** Puts back, bit for bit, what {@link #swapIn} overwrote: the weight is the base again. */
    public void swapOut() {
        if (merged == null) {
            throw new IllegalStateException("layer '" + name() + "' has no adapter swapped in");
        }
        if (backup == null) {
            throw new IllegalStateException(
                    "layer '" + name() + "': adapter '" + merged + "' was merged, not swapped" + " in; unmerge() it");
        }
        backup.restore(base.denseWeight());
        backup.close();
        backup = null;
        if (adapters.get(merged) instanceof DoraAdapter d) {
            d.restoredByCopy();
        }
        merged = null;
    }

    /** The adapter swapped in ({@link #swapIn}), or null (none, or one merged by {@link #merge}). */
    public String swappedIn() {
        return backup == null ? null : merged;
    }

    /** The bytes kept to undo the current swap: r·out, r·in or out·in elements of W; 0 when none is swapped in. */
    public long swapBackupBytes() {
        return backup == null ? 0 : backup.bytes();
    }

    private void checkFinite(Adapter a) {
        Backend be = Backends.of(base.device());
        for (Tensor t : a.trainable()) {
            long bad = be.countNonFinite(t);
            if (bad > 0) {
                throw new IllegalStateException("layer '" + name() + "': adapter tensor " + t.name() + " has " + bad
                        + " non-finite values; refusing to merge it into the weight");
            }
        }
    }

    /** The tensors the active adapter trains. */
    @Override
    public List<Tensor> trainable() {
        return active == null ? List.of() : adapter().trainable();
    }

    /** The base weight and the active adapter's tensors. */
    @Override
    public Map<String, Tensor> namedTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("weight", base.denseWeight());
        if (active != null) {
            adapter().tensors().forEach(m::put);
        }
        return m;
    }

    @Override
    public void train(boolean on) {
        this.training = on;
    }

    private void requireAdapter(String name) {
        if (name == null || !adapters.containsKey(name)) {
            throw new IllegalArgumentException(
                    "layer '" + name() + "' has no adapter named '" + name + "' (it has " + adapters.keySet() + ")");
        }
    }

    private static void requireName(String name) {
        if (name == null || name.isBlank() || name.contains(".")) {
            throw new IllegalArgumentException("an adapter name must be non-empty and free of '.', got '" + name + "'");
        }
    }
}
