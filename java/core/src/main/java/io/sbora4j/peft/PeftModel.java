package io.sbora4j.peft;

import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.nn.Module;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A frozen module tree with named adapters injected into the linear layers their configs target, as PEFT's
 * {@code get_peft_model} and {@code add_adapter} do: every targeted layer is wrapped in an {@link AdaptedLinear},
 * everything else stays frozen. One adapter is active at a time ({@link #setActiveAdapter}); training, merging and
 * saving act on it.
 *
 * @param <M> the module the adapters are injected into ({@code LlamaModel}, or any {@link Module} that reports its
 *            linear layers)
 */
public final class PeftModel<M extends Module> {

    private final M model;
    private final Map<String, AdapterConfig> configs = new LinkedHashMap<>();
    /** Every wrapped layer by path; a layer may hold some adapters and not others. */
    private final Map<String, AdaptedLinear> layers = new LinkedHashMap<>();

    private String active;
    /** The adapter {@link #swapTo} merged into every layer holding it, or null. */
    private String swapped;

    private PeftModel(M model) {
        this.model = model;
    }

    /**
     * Freezes {@code model} and returns it with no adapter yet: forward is the base model's until one is added. What
     * a server starts from before it loads its adapters.
     */
    public static <M extends Module> PeftModel<M> wrap(M model) {
        model.freeze();
        return new PeftModel<>(model);
    }

    /**
     * Freezes {@code model} ({@link Module#freeze()}), wraps every linear layer that {@code config} targets and adds
     * the adapter {@value AdaptedLinear#DEFAULT} to it, allocating its tensors in {@code arena}. A config that
     * targets no layer is an error.
     */
    public static <M extends Module> PeftModel<M> inject(M model, AdapterConfig config, Arena arena) {
        model.freeze();
        PeftModel<M> peft = new PeftModel<>(model);
        peft.addAdapter(AdaptedLinear.DEFAULT, config, arena);
        return peft;
    }

    /**
     * Adds the adapter {@code config} describes under {@code name} to every layer it targets (wrapping the layers
     * not wrapped yet), its tensors in {@code arena}; the first adapter becomes the active one. Layers keep their
     * other adapters.
     */
    public void addAdapter(String name, AdapterConfig config, Arena arena) {
        if (configs.containsKey(name)) {
            throw new IllegalArgumentException("the model already has an adapter named '" + name + "'");
        }
        List<String> added = new ArrayList<>();
        try {
            model.replaceLinearLayers(layer -> {
                if (!config.targets(layer.name())) {
                    return layer;
                }
                AdaptedLinear a = layer instanceof AdaptedLinear al ? al : AdaptedLinear.wrap(frozenOf(layer));
                a.addAdapter(name, config, arena);
                layers.put(layer.name(), a);
                added.add(layer.name());
                return a;
            });
        } catch (RuntimeException e) {
            // A layer that refused it (a base the method cannot take) must not leave the adapter on the layers
            // before it: its tensors would outlive the arena the caller then closes.
            for (String path : added) {
                layers.get(path).removeAdapter(name);
            }
            throw e;
        }
        if (added.isEmpty()) {
            var names = model.linearLayers().keySet();
            throw new IllegalArgumentException("target modules " + config.targetModules() + " match no linear layer of"
                    + " the model"
                    + (names.isEmpty()
                            ? " (it reports none)"
                            : " (names look like " + names.iterator().next() + ")"));
        }
        configs.put(name, config);
        if (active == null) {
            active = name;
        }
        setActiveAdapter(active);
    }

    private static FrozenLinear frozenOf(LinearLayer layer) {
        if (layer instanceof FrozenLinear f) {
            return f;
        }
        throw new IllegalArgumentException("layer '" + layer.name() + "' is a "
                + layer.getClass().getSimpleName() + ", not a frozen linear layer adapters can wrap");
    }

    /** Removes the adapter {@code name} from every layer (its memory goes with the arena it was added in). */
    public void removeAdapter(String name) {
        requireAdapter(name);
        for (AdaptedLinear a : layers.values()) {
            if (a.adapters().containsKey(name)) {
                a.removeAdapter(name);
            }
        }
        configs.remove(name);
        if (name.equals(active)) {
            active = configs.isEmpty() ? null : configs.keySet().iterator().next();
            if (active != null) {
                setActiveAdapter(active);
            }
        }
    }

    /**
     * Makes {@code name} the adapter every layer's forward goes through; layers without it run their base alone.
     * Null: no adapter, every layer runs its base alone.
     */
    public void setActiveAdapter(String name) {
        if (name != null) {
            requireAdapter(name);
        }
        for (AdaptedLinear a : layers.values()) {
            if (name != null && a.adapters().containsKey(name)) {
                a.setActive(name);
            } else if (!a.isMerged()) {
                a.setActive(null);
            }
        }
        active = name;
    }

    /**
     * Makes adapter {@code name} the model's weights, exactly: puts back the base bit for bit if another adapter is
     * swapped in, then {@linkplain AdaptedLinear#swapIn swaps} {@code name} into every layer holding it (saving the r
     * columns, r rows or whole weight each merge overwrites). Forward then costs the base model's GEMMs alone. Every
     * layer is checked before the first merge, so a refused swap leaves the model on its base weights.
     *
     * @throws IllegalArgumentException for an unknown name, or a layer whose base is not a dense weight (NF4)
     * @throws IllegalStateException    if an adapter was merged by {@link #mergeAll} (not swapped), or holds
     *                                  non-finite values
     */
    public void swapTo(String name) {
        requireAdapter(name);
        if (name.equals(swapped)) {
            return;
        }
        List<AdaptedLinear> holding = new ArrayList<>();
        for (AdaptedLinear a : layers.values()) {
            if (a.adapters().containsKey(name)) {
                holding.add(a);
            }
            if (a.isMerged() && a.swappedIn() == null) {
                throw new IllegalStateException("layer '" + a.name() + "' holds an adapter merged by mergeAll, which"
                        + " no swap can restore exactly; unmergeAll() first");
            }
        }
        swapToBase();
        for (AdaptedLinear a : holding) {
            a.checkSwappable(name);
        }
        List<AdaptedLinear> done = new ArrayList<>();
        try {
            for (AdaptedLinear a : holding) {
                a.swapIn(name);
                done.add(a);
            }
        } catch (RuntimeException e) {
            done.forEach(AdaptedLinear::swapOut); // all or nothing: the base comes back
            throw e;
        }
        swapped = name;
        setActiveAdapter(name);
    }

    /** Puts back the base weights bit for bit after {@link #swapTo}; nothing to do when no adapter is swapped in. */
    public void swapToBase() {
        for (AdaptedLinear a : layers.values()) {
            if (a.swappedIn() != null) {
                a.swapOut();
            }
        }
        swapped = null;
    }

    /** The adapter {@link #swapTo} merged, or null when the weights are the base's. */
    public String swappedAdapter() {
        return swapped;
    }

    /** The active adapter's name. */
    public String activeAdapter() {
        return active;
    }

    /** The adapters' names, in the order they were added. */
    public List<String> adapterNames() {
        return new ArrayList<>(configs.keySet());
    }

    public M model() {
        return model;
    }

    /** The active adapter's config. */
    public AdapterConfig config() {
        return configs.get(active);
    }

    /** The config of adapter {@code name}. */
    public AdapterConfig config(String name) {
        requireAdapter(name);
        return configs.get(name);
    }

    /** The layers holding the active adapter, by path. */
    public Map<String, AdaptedLinear> adapted() {
        Map<String, AdaptedLinear> m = new LinkedHashMap<>();
        layers.forEach((path, a) -> {
            if (a.adapters().containsKey(active)) {
                m.put(path, a);
            }
        });
        return Collections.unmodifiableMap(m);
    }

    /** Every trainable tensor of the active adapter, in model order. */
    public List<Tensor> trainable() {
        return new ArrayList<>(trainableByName().values());
    }

    /** The active adapter's trainable tensors by {@code <layer path>.<tensor name>}, in model order. */
    public Map<String, Tensor> trainableByName() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        adapted()
                .forEach((path, a) -> a.adapter().tensors().forEach((n, t) -> {
                    if (t.requiresGrad()) {
                        m.put(path + "." + n, t);
                    }
                }));
        return m;
    }

    /** Restarts the active adapter's dropout masks for micro-batch {@code counter}. */
    public void reseedDropout(long counter) {
        adapted().values().forEach(a -> a.adapter().reseedDropout(counter));
    }

    /** Trainable adapter parameters against all parameters (base + adapters), as PEFT prints them. */
    public ParameterReport report() {
        long trainable = 0;
        for (Tensor t : trainable()) {
            trainable += t.numel();
        }
        return new ParameterReport(trainable, model.parameterCount() + trainable);
    }

    /** Folds the active adapter into every weight it adapts. */
    public void mergeAll() {
        adapted().values().forEach(AdaptedLinear::merge);
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
        adapted().forEach((k, a) -> before.put(k, a.base().denseWeight().toFloatArray()));
        mergeAll();
        long changed = 0, total = 0;
        for (var e : adapted().entrySet()) {
            float[] b = before.get(e.getKey()),
                    now = e.getValue().base().denseWeight().toFloatArray();
            total += b.length;
            for (int i = 0; i < b.length; i++) {
                changed += Float.floatToRawIntBits(b[i]) != Float.floatToRawIntBits(now[i]) ? 1 : 0;
            }
        }
        return new MergeCount(changed, total);
    }

    /** Takes the merged adapter back out of every weight. */
    public void unmergeAll() {
        layers.values().stream().filter(AdaptedLinear::isMerged).forEach(AdaptedLinear::unmerge);
        swapped = null; // a swapped-in adapter's unmerge is its exact swap-out
    }

    public void train(boolean training) {
        model.train(training);
        layers.values().forEach(a -> a.train(training));
    }

    /**
     * Puts back the plain layers (after a merge, the weights keep the adapter's update): the model is as it was
     * before {@link #inject}, and this object must not be used again.
     */
    public M unload() {
        model.replaceLinearLayers(LinearLayer::frozen);
        layers.clear();
        configs.clear();
        active = null;
        return model;
    }

    private void requireAdapter(String name) {
        if (name == null || !configs.containsKey(name)) {
            throw new IllegalArgumentException(
                    "the model has no adapter named '" + name + "' (it has " + configs.keySet() + ")");
        }
    }
}
