package io.sbora4j.serve;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.io.AdapterFiles;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.nn.Module;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterRouting;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.peft.TensorSpec;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Named adapters over one frozen base model, for serving: load them (from PEFT adapter directories or from tensors in
 * memory), list and unload them, make one the model's weights with an exact hot-swap, or run a mixed batch in which
 * each sequence goes through its own adapter.
 *
 * <pre>{@code
 * AdapterRegistry<LlamaModel> reg = AdapterRegistry.over(model);
 * reg.load("math", Path.of("adapters/math"));
 * reg.load("code", Path.of("adapters/code"));
 * reg.swapTo("math");                                     // W[:, idx] += s·B, the r old columns kept
 * Tensor a = reg.withModel(m -> m.logits(ids));           // one GEMM per projection
 * reg.swapToBase();                                       // the base, bit for bit
 * Tensor b = reg.logits(ids, Arrays.asList("math", null, "code"));   // a mixed batch, sequence 1 on the base
 * }</pre>
 *
 * <p><b>Hot-swap.</b> {@link #swapTo} restores the base bit for bit (from the copy the last swap kept), then merges
 * the next adapter, keeping a copy of what that merge overwrites: r columns per weight for SBoRA-FA, r rows for
 * SBoRA-FB, the whole weight for LoRA, LoRA-FA and DoRA, whose ΔW is dense. So every sequence of swaps leaves the base
 * exact, for every method; the SBoRA methods keep r/in (or r/out) of a weight where the others keep all of it. A
 * quantised (NF4) base is refused: its merge re-encodes the weight; serve its adapters unmerged (mixed batches).
 *
 * <p><b>Mixed batches.</b> {@link #logits(Tensor, List)} and {@link #routed} run one forward in which the base GEMM
 * of each layer covers all rows and each adapter's path only the rows of the sequences naming it
 * ({@link AdapterRouting}); they need the base weights, so they are refused while an adapter is swapped in.
 *
 * <p>Thread-safe: every method holds the registry's lock (its own monitor: {@code synchronized (registry)} makes
 * several calls one step, e.g. a swap to the base and a mixed batch), so loads, swaps and forwards run one at a time
 * (the model itself is not thread-safe). Each adapter's tensors live in an arena of its own, freed by {@link #unload}.
 *
 * @param <M> the base model ({@link LlamaModel}, or any {@link Module} that reports its linear layers)
 */
public final class AdapterRegistry<M extends Module> {

    private final PeftModel<M> peft;
    private final Map<String, Arena> arenas = new LinkedHashMap<>();

    private AdapterRegistry(PeftModel<M> peft) {
        this.peft = peft;
    }

    /** A registry over {@code model}, which it freezes; no adapter yet. */
    public static <M extends Module> AdapterRegistry<M> over(M model) {
        return new AdapterRegistry<>(PeftModel.wrap(Objects.requireNonNull(model, "model")));
    }

    /**
     * Loads the PEFT adapter directory {@code dir} as adapter {@code name}, checked by {@link AdapterFiles} against
     * the model (every adapted layer present with the recorded shape, the config's target modules matching the
     * stored layers, every tensor with its shape and type, SBoRA indices distinct and in range).
     *
     * @throws IllegalArgumentException for a name in use, or an adapter that does not fit the model
     * @throws IOException              if the directory cannot be read
     */
    public synchronized void load(String name, Path dir) throws IOException {
        requireNewName(name);
        Arena arena = Arena.ofShared();
        try {
            AdapterFiles.load(dir, peft, name, arena);
        } catch (IOException | RuntimeException e) {
            discard(name, arena);
            throw e;
        }
        arenas.put(name, arena);
        // The registry routes explicitly: a plain forward runs the adapter swapped in, or the base.
        peft.setActiveAdapter(peft.swappedAdapter());
    }

    /**
     * Adds adapter {@code name} of {@code config} with the tensors in {@code layers} (layer path to the method's
     * stored tensors by name, e.g. {@code lora_B} and {@code idx} for SBoRA-FA), copied into the registry's own
     * memory. The layers must be exactly those the config targets, each with the shapes and types the method stores
     * for it.
     *
     * @throws IllegalArgumentException for a name in use, a layer the model lacks or the config does not target, a
     *                                  targeted layer without tensors, or a tensor of the wrong shape, type or value
     */
    public synchronized void add(String name, AdapterConfig config, Map<String, Map<String, Tensor>> layers) {
        requireNewName(name);
        Objects.requireNonNull(config, "config");
        Map<String, LinearLayer> model = peft.model().linearLayers();
        AdapterMethod m = config.method();
        for (var e : layers.entrySet()) {
            String path = e.getKey();
            LinearLayer layer = model.get(path);
            if (layer == null) {
                throw new IllegalArgumentException(
                        "adapter '" + name + "': layer " + path + " does not exist in the model");
            }
            if (!config.targets(path)) {
                throw new IllegalArgumentException("adapter '" + name + "': tensors given for layer " + path
                        + ", which target modules " + config.targetModules() + " do not match");
            }
            int out = layer.outFeatures(), in = layer.inFeatures();
            Map<String, TensorSpec> want = m.storedTensors(out, in, config.r());
            for (var spec : want.entrySet()) {
                Tensor t = e.getValue().get(spec.getKey());
                if (t == null) {
                    throw new IllegalArgumentException("adapter '" + name + "': layer " + path + " lacks tensor "
                            + spec.getKey() + " (" + m.id() + " stores " + spec.getValue() + ")");
                }
                if (!t.shape().equals(spec.getValue().shape())
                        || t.dtype() != spec.getValue().dtype()) {
                    throw new IllegalArgumentException("adapter '" + name + "': tensor " + path + "." + spec.getKey()
                            + " is " + t.describe() + ", but " + m.id() + " at r=" + config.r() + " on a " + out
                            + "x" + in + " layer stores " + spec.getValue());
                }
            }
            for (String k : e.getValue().keySet()) {
                if (!want.containsKey(k)) {
                    throw new IllegalArgumentException("adapter '" + name + "': layer " + path + " has tensor " + k
                            + ", which " + m.id() + " does not store (it stores " + want.keySet() + ")");
                }
            }
            m.checkStored(path, e.getValue(), out, in, config.r());
        }
        for (String path : model.keySet()) {
            if (config.targets(path) && !layers.containsKey(path)) {
                throw new IllegalArgumentException("adapter '" + name + "': the config targets layer " + path
                        + " but no tensors are given for it");
            }
        }
        Arena arena = Arena.ofShared();
        try {
            peft.addAdapter(name, config, arena);
            layers.forEach((path, tensors) ->
                    ((AdaptedLinear) model(path)).adapter(name).load(tensors));
        } catch (RuntimeException e) {
            discard(name, arena);
            throw e;
        }
        arenas.put(name, arena);
        peft.setActiveAdapter(peft.swappedAdapter());
    }

    /**
     * Removes adapter {@code name} and frees its memory; if it is swapped in, the base is restored first (bit for
     * bit).
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public synchronized void unload(String name) {
        requireKnown(name);
        if (name.equals(peft.swappedAdapter())) {
            peft.swapToBase();
        }
        peft.removeAdapter(name);
        peft.setActiveAdapter(peft.swappedAdapter());
        arenas.remove(name).close();
    }

    /** The adapters' names, in the order they were loaded. */
    public synchronized List<String> names() {
        return List.copyOf(arenas.keySet());
    }

    /** Whether an adapter is loaded under {@code name}. */
    public synchronized boolean contains(String name) {
        return arenas.containsKey(name);
    }

    /** The config of adapter {@code name}. */
    public synchronized AdapterConfig config(String name) {
        requireKnown(name);
        return peft.config(name);
    }

    /**
     * Makes adapter {@code name} the model's weights ({@link PeftModel#swapTo}): the base is restored bit for bit
     * from the last swap's copy, then {@code name} is merged, its overwritten region kept. A plain forward
     * ({@link #withModel}) then runs the adapted model at the base model's cost.
     *
     * @throws IllegalArgumentException for an unknown name, or a quantised base
     */
    public synchronized void swapTo(String name) {
        requireKnown(name);
        peft.swapTo(name);
    }

    /** Puts the base weights back, bit for bit; nothing to do when none is swapped in. */
    public synchronized void swapToBase() {
        peft.swapToBase();
        peft.setActiveAdapter(null);
    }

    /** The adapter swapped in, or null when the weights are the base's. */
    public synchronized String swapped() {
        return peft.swappedAdapter();
    }

    /** The bytes the current swap keeps to restore the base (0 when none is swapped in). */
    public synchronized long swapBackupBytes() {
        long n = 0;
        for (LinearLayer l : peft.model().linearLayers().values()) {
            if (l instanceof AdaptedLinear a) {
                n += a.swapBackupBytes();
            }
        }
        return n;
    }

    /**
     * Runs {@code f} on the model under the registry's lock, without autograd: its forward is that of the adapter
     * swapped in, or of the base.
     */
    public synchronized <R> R withModel(Function<M, R> f) {
        try (NoGrad ignored = NoGrad.enter()) {
            return f.apply(peft.model());
        }
    }

    /**
     * Runs {@code f} on the model with {@code routing} open: each adapted layer runs its base GEMM over all rows and
     * each adapter over its own rows. Every name routed to must be loaded; no adapter may be swapped in.
     */
    public synchronized <R> R routed(AdapterRouting routing, Function<M, R> f) {
        for (String n : routing.adapterNames()) {
            requireKnown(n);
        }
        String s = peft.swappedAdapter();
        if (s != null) {
            throw new IllegalStateException(
                    "adapter '" + s + "' is swapped in; a mixed batch needs the base weights: swapToBase() first");
        }
        try (NoGrad ignored = NoGrad.enter();
                AdapterRouting open = routing.open()) {
            return f.apply(peft.model());
        }
    }

    /**
     * Logits of a (batch, seq) batch of token ids in which sequence b goes through adapter {@code perSequence.get(b)}
     * (null: the base alone), as {@link LlamaModel#logits}: (batch·seq) x vocab.
     *
     * @throws IllegalArgumentException if the model is not a {@link LlamaModel}, the names do not match the batch,
     *                                  or one is not loaded
     */
    public Tensor logits(Tensor ids, List<String> perSequence) {
        if (ids.rank() != 2) {
            throw new IllegalArgumentException("token ids must be a (batch, seq) tensor, got " + ids.describe());
        }
        if (perSequence.size() != ids.dim(0)) {
            throw new IllegalArgumentException("the batch holds " + ids.dim(0) + " sequences but " + perSequence.size()
                    + " adapter names were given");
        }
        AdapterRouting routing = AdapterRouting.perSequence(perSequence, ids.dim(1));
        return routed(routing, m -> {
            if (!(m instanceof LlamaModel l)) {
                throw new IllegalArgumentException(
                        "logits need a LlamaModel, not a " + m.getClass().getSimpleName() + "; use routed()");
            }
            return l.logits(ids);
        });
    }

    /** The underlying model with its adapters; not guarded by the registry's lock. */
    public PeftModel<M> peft() {
        return peft;
    }

    private LinearLayer model(String path) {
        return peft.model().linearLayers().get(path);
    }

    private void discard(String name, Arena arena) {
        if (peft.adapterNames().contains(name)) {
            peft.removeAdapter(name);
        }
        peft.setActiveAdapter(peft.swappedAdapter());
        arena.close();
    }

    private void requireNewName(String name) {
        if (name == null || name.isBlank() || name.contains(".")) {
            throw new IllegalArgumentException("an adapter name must be non-empty and free of '.', got '" + name + "'");
        }
        if (arenas.containsKey(name)) {
            throw new IllegalArgumentException("an adapter named '" + name + "' is already loaded");
        }
    }

    private void requireKnown(String name) {
        if (name == null || !arenas.containsKey(name)) {
            throw new IllegalArgumentException(
                    "no adapter named '" + name + "' is loaded (loaded: " + arenas.keySet() + ")");
        }
    }
}
