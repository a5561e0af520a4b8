package io.sbora4j.nn;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.backend.AttentionShape;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.ops.Activations;
import io.sbora4j.ops.Attention;
import io.sbora4j.ops.Casts;
import io.sbora4j.ops.Checkpoint;
import io.sbora4j.ops.Elementwise;
import io.sbora4j.ops.Embeddings;
import io.sbora4j.ops.Losses;
import io.sbora4j.ops.MatMul;
import io.sbora4j.ops.Norms;
import io.sbora4j.ops.Rope;
import io.sbora4j.ops.RopeScaling;
import io.sbora4j.ops.RopeTables;
import io.sbora4j.ops.Shapes;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * A LLaMA decoder (HF's LlamaForCausalLM): token embedding, {@code layers} blocks of pre-norm grouped-query
 * attention with rotary embeddings and a SwiGLU MLP, a final RMSNorm and the LM head (tied to the embedding or
 * not). Tensors carry HF's names, e.g. {@code model.layers.0.self_attn.q_proj.weight}.
 *
 * <p>The same code runs Qwen2 (biases on q, k and v: {@link LlamaConfig#qkvBias}) and Mistral (a sliding window,
 * {@link LlamaConfig#slidingWindow}, within which the mask is the causal one; longer sequences are refused by the
 * whole-sequence forward, while {@link #forwardCached} masks the window and runs beyond it). A bias
 * is a frozen base tensor added after its projection's output, outside the {@link LinearLayer}: adapters wrap the
 * projection's x·Wᵀ, and merging them changes W alone, so neither has to know about the bias.
 */
public final class LlamaModel implements Module {

    /** The seven projections of a block, in HF's order. */
    public static final List<String> PROJECTIONS = List.of(
            "self_attn.q_proj",
            "self_attn.k_proj",
            "self_attn.v_proj",
            "self_attn.o_proj",
            "mlp.gate_proj",
            "mlp.up_proj",
            "mlp.down_proj");

    /** The projections that carry a bias where {@link LlamaConfig#qkvBias} says so (Qwen2). */
    public static final List<String> BIASED = List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj");

    private final LlamaConfig config;
    private final Device device;
    private final Map<String, Tensor> tensors; // the weights that are not projections, by HF name
    private final Map<String, LinearLayer> projections; // "model.layers.N.self_attn.q_proj" -> layer
    private final RopeTables rope;
    private final Arena arena;
    /** Dynamic NTK scaling: the tables of each sequence length beyond the original context, made on first use. */
    private final Map<Integer, RopeTables> longRope = new ConcurrentHashMap<>();

    private DType projectionType = DType.F32;
    private boolean checkpointActivations;

    private LlamaModel(LlamaConfig config, Device device, Map<String, Tensor> tensors, Arena arena) {
        this.config = config;
        this.device = device;
        this.tensors = tensors;
        this.arena = arena;
        this.projections = new LinkedHashMap<>();
        for (int l = 0; l < config.layers(); l++) {
            for (String p : PROJECTIONS) {
                String path = "model.layers." + l + "." + p;
                projections.put(path, new Linear(path, tensors.remove(path + ".weight")));
            }
        }
        // the positions a run uses, grown with its longest sequence: not every position the config allows
        // dynamic scaling leaves the frequencies of sequences within the original context as they are
        int positions = config.ropeScaling().dependsOnLength()
                ? Math.min(config.maxPositions(), config.ropeScaling().originalMaxPositions())
                : config.maxPositions();
        this.rope = RopeTables.onDemand(
                arena,
                device,
                config.headDim(),
                positions,
                config.ropeScaling().invFreq(config.headDim(), config.ropeTheta(), 0));
    }

    /** The HF names and shapes every model of {@code cfg} has. */
    public static Map<String, int[]> expectedShapes(LlamaConfig cfg) {
        Map<String, int[]> m = new LinkedHashMap<>();
        int h = cfg.hiddenSize(), q = cfg.qWidth(), kv = cfg.kvWidth(), i = cfg.intermediateSize();
        m.put("model.embed_tokens.weight", new int[] {cfg.vocabSize(), h});
        for (int l = 0; l < cfg.layers(); l++) {
            String p = "model.layers." + l + ".";
            m.put(p + "self_attn.q_proj.weight", new int[] {q, h});
            if (cfg.qkvBias()) {
                m.put(p + "self_attn.q_proj.bias", new int[] {q});
            }
            m.put(p + "self_attn.k_proj.weight", new int[] {kv, h});
            if (cfg.qkvBias()) {
                m.put(p + "self_attn.k_proj.bias", new int[] {kv});
            }
            m.put(p + "self_attn.v_proj.weight", new int[] {kv, h});
            if (cfg.qkvBias()) {
                m.put(p + "self_attn.v_proj.bias", new int[] {kv});
            }
            m.put(p + "self_attn.o_proj.weight", new int[] {h, q});
            m.put(p + "mlp.gate_proj.weight", new int[] {i, h});
            m.put(p + "mlp.up_proj.weight", new int[] {i, h});
            m.put(p + "mlp.down_proj.weight", new int[] {h, i});
            m.put(p + "input_layernorm.weight", new int[] {h});
            m.put(p + "post_attention_layernorm.weight", new int[] {h});
        }
        m.put("model.norm.weight", new int[] {h});
        if (!cfg.tieWordEmbeddings()) {
            m.put("lm_head.weight", new int[] {cfg.vocabSize(), h});
        }
        return m;
    }

    /**
     * A model over the given tensors (HF names, f32, on {@code device}); every expected tensor must be present with
     * its shape, and unknown names are an error naming them.
     */
    public static LlamaModel of(LlamaConfig cfg, Map<String, Tensor> weights, Device device, Arena arena) {
        // before listing every name: a corrupt num_hidden_layers would list billions of them
        long needed = tensorCount(cfg);
        if (weights.size() < needed) {
            throw new IllegalArgumentException("model weights lack tensor " + firstMissing(cfg, weights.keySet())
                    + " (num_hidden_layers " + cfg.layers() + " needs " + needed + " tensors, the weights hold "
                    + weights.size() + ")");
        }
        Map<String, Tensor> t = new LinkedHashMap<>();
        Map<String, int[]> expected = expectedShapes(cfg);
        for (var e : expected.entrySet()) {
            Tensor w = weights.get(e.getKey());
            if (w == null) {
                throw new IllegalArgumentException("model weights lack tensor " + e.getKey());
            }
            if (!Arrays.equals(w.shape().dims(), e.getValue()) || w.dtype() != DType.F32 || w.device() != device) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " is " + w.describe() + ", expected "
                        + Arrays.toString(e.getValue()) + " f32 " + device);
            }
            t.put(e.getKey(), w.named(e.getKey()));
        }
        for (String name : weights.keySet()) {
            if (!expected.containsKey(name) && !name.endsWith("rotary_emb.inv_freq")) {
                throw new IllegalArgumentException("unexpected tensor " + name + " for this config");
            }
        }
        return new LlamaModel(cfg, device, t, arena);
    }

    /** The first name of {@link #expectedShapes}'s order not in {@code names}, found without listing them all. */
    private static String firstMissing(LlamaConfig cfg, Set<String> names) {
        if (!names.contains("model.embed_tokens.weight")) {
            return "model.embed_tokens.weight";
        }
        List<String> perLayer = new ArrayList<>();
        PROJECTIONS.forEach(p -> perLayer.add(p + ".weight"));
        if (cfg.qkvBias()) {
            BIASED.forEach(p -> perLayer.add(p + ".bias"));
        }
        perLayer.add("input_layernorm.weight");
        perLayer.add("post_attention_layernorm.weight");
        for (int l = 0; l < cfg.layers(); l++) { // ends within names.size() + 1 names: one of them is missing
            for (String n : perLayer) {
                String name = "model.layers." + l + "." + n;
                if (!names.contains(name)) {
                    return name;
                }
            }
        }
        return names.contains("model.norm.weight") ? "lm_head.weight" : "model.norm.weight";
    }

    /** How many tensors a model of {@code cfg} has: {@link #expectedShapes}'s size, without listing them. */
    public static long tensorCount(LlamaConfig cfg) {
        return 2 + (cfg.qkvBias() ? 12L : 9L) * cfg.layers() + (cfg.tieWordEmbeddings() ? 0 : 1);
    }

    /**
     * A randomly initialised model (N(0, 0.02) weights, unit norms, as HF initialises), seeded.
     *
     * @throws IllegalArgumentException if a tensor of {@code cfg} has more elements than a Java array holds
     */
    public static LlamaModel random(LlamaConfig cfg, long seed, Device device, Arena arena) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (var e : expectedShapes(cfg).entrySet()) {
            long numel = 1;
            for (int d : e.getValue()) {
                numel *= d; // two ints: no overflow of a long
            }
            if (numel > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " of shape " + Arrays.toString(e.getValue())
                        + " would have " + numel + " elements, more than a random model can be built with");
            }
            int n = (int) numel;
            float[] v = new float[n];
            boolean norm = e.getKey().endsWith("norm.weight");
            for (int i = 0; i < n; i++) {
                v[i] = norm ? 1f : (float) (rng.nextGaussian() * 0.02);
            }
            w.put(e.getKey(), Tensor.of(arena, device, v, e.getValue()));
        }
        return of(cfg, w, device, arena);
    }

    public LlamaConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /**
     * Logits for token ids of shape (batch, seq), i32: (batch·seq) x vocab, row b·seq + t predicting the token after
     * position t of sequence b. Positions restart at 0 for every sequence. For inference and evaluation; training
     * takes {@link #loss}, which never holds all the logits.
     */
    public Tensor logits(Tensor ids) {
        Tensor h = hidden(ids);
        Tensor logits = MatMul.matmul(h, false, head(), true);
        MemoryScope.release(h);
        return logits;
    }

    /**
     * A key/value cache for {@link #forwardCached}: {@code batch} sequences of up to {@code maxLen} tokens, on this
     * model's device, owned by {@code arena}.
     */
    public KvCache newCache(Arena arena, int batch, int maxLen) {
        return new KvCache(config, device, arena, batch, maxLen);
    }

    /**
     * The incremental forward of generation: runs the new tokens of each sequence of the cache's batch
     * ({@code tokens[b]}, any number, 0 for a sequence that takes no part in this step; the whole prompt at first,
     * then one token a step), appends their keys and values to the cache at their positions and returns the logits
     * of each sequence's last new token, (batch x vocab) f32; the row of a sequence given no token is meaningless.
     * Inference only: it runs under {@link NoGrad}. The projections run through their
     * {@link LinearLayer}s, adapters included, and the biases, rope scaling and bf16 projections as in
     * {@link #logits}.
     *
     * <p>The step is a rectangle of {@code max_b tokens[b].length} tokens per sequence, the shorter ones padded at
     * the end: padding tokens are computed and discarded, and only real tokens reach the cache, so a sequence's
     * result does not depend on the others of its batch. Every sequence needs room for the whole rectangle:
     * {@code cache.length(b) + max tokens <= maxLen}.
     *
     * <p>Sliding window (Mistral): each token attends the {@code sliding_window} keys up to its own, so that a
     * cache may outgrow the window (the whole-sequence {@link #logits} refuses that). Dynamic NTK rope scaling: the
     * new tokens are rotated with the frequencies of the current total length {@code max_b(length(b) + tokens)}
     * and the cached keys keep the rotation they were given, as transformers does with a cache; so within the
     * original context, and for a prefill of a whole sequence of any length, the logits are those of
     * {@link #logits}, while a token decoded beyond the original context sees earlier keys rotated with the
     * frequencies of shorter lengths, unlike a whole-sequence run.
     *
     * @throws IllegalArgumentException if the batch does not match the cache, a token id lies outside the
     *                                  vocabulary, no sequence has a token, the cache has no room for the step, or
     *                                  a position would exceed max_position_embeddings
     */
    public Tensor forwardCached(KvCache cache, int[][] tokens) {
        if (tokens.length != cache.batch()) {
            throw new IllegalArgumentException(
                    "forwardCached: " + tokens.length + " sequences for a cache of " + cache.batch());
        }
        int batch = tokens.length, steps = 0, total = 0;
        for (int b = 0; b < batch; b++) {
            steps = Math.max(steps, tokens[b].length);
            total = Math.max(total, cache.length(b) + tokens[b].length);
        }
        if (steps == 0) {
            throw new IllegalArgumentException("forwardCached: no sequence has a new token");
        }
        for (int b = 0; b < batch; b++) {
            if (cache.length(b) + steps > cache.maxLen()) {
                throw new IllegalArgumentException("forwardCached: sequence " + b + " holds " + cache.length(b)
                        + " tokens; " + steps + " more do not fit in a cache of " + cache.maxLen() + " per sequence");
            }
        }
        try (NoGrad ignored = NoGrad.enter()) {
            return forwardCached(cache, tokens, batch, steps, total);
        }
    }

    private Tensor forwardCached(KvCache cache, int[][] tokens, int batch, int steps, int total) {
        int[] ids = new int[batch * steps];
        int[] pos = new int[batch * steps];
        int[] past = cache.lengths();
        int[] last = new int[batch];
        Tensor cos, sin;
        RopeScaling s = config.ropeScaling();
        if (s.dependsOnLength() && total > s.originalMaxPositions()) {
            // tables for the rows this step rotates only, the frequencies those of the total length: positions
            // are counted from the earliest one of the step
            int base = Integer.MAX_VALUE;
            for (int b = 0; b < batch; b++) {
                if (tokens[b].length > 0) {
                    base = Math.min(base, past[b]);
                }
            }
            float[] invFreq = s.invFreq(config.headDim(), config.ropeTheta(), total);
            int n = total - base, h = config.headDim() / 2;
            float[] c = new float[n * h], sn = new float[n * h];
            for (int j = 0; j < h; j++) {
                for (int p = 0; p < n; p++) {
                    float angle = (base + p) * invFreq[j]; // float32, as RopeTables computes them
                    c[p * h + j] = (float) Math.cos(angle);
                    sn[p * h + j] = (float) Math.sin(angle);
                }
            }
            cos = Tensor.of(device, c, n, h);
            sin = Tensor.of(device, sn, n, h);
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < tokens[b].length; t++) {
                    pos[b * steps + t] = past[b] + t - base;
                }
            }
        } else {
            if (total > config.maxPositions()) {
                throw new IllegalArgumentException(
                        "sequence length " + total + " exceeds max_position_embeddings " + config.maxPositions());
            }
            rope.ensure(total);
            cos = rope.cos();
            sin = rope.sin();
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < tokens[b].length; t++) {
                    pos[b * steps + t] = past[b] + t;
                }
            }
        }
        for (int b = 0; b < batch; b++) {
            System.arraycopy(tokens[b], 0, ids, b * steps, tokens[b].length);
            last[b] = b * steps + Math.max(0, tokens[b].length - 1);
        }
        Backend be = Backends.of(device);
        Tensor positions = Tensor.ofInts(device, pos, pos.length);
        Tensor pastT = Tensor.ofInts(device, past, batch);
        AttentionShape shape =
                new AttentionShape(batch, steps, config.heads(), config.kvHeads(), config.headDim(), (float)
                        (1 / Math.sqrt(config.headDim())));
        float eps = (float) config.rmsNormEps();
        Tensor x =
                Embeddings.lookup(tensors.get("model.embed_tokens.weight"), Tensor.ofInts(device, ids, batch, steps));
        Tensor h = Norms.rmsNorm(x, tensors.get("model.layers.0.input_layernorm.weight"), eps);
        for (int l = 0; l < config.layers(); l++) {
            String p = "model.layers." + l + ".";
            Tensor hp = toProjectionType(h);
            Tensor q = projectBiased(p + "self_attn.q_proj", hp);
            Tensor k = projectBiased(p + "self_attn.k_proj", hp);
            Tensor v = projectBiased(p + "self_attn.v_proj", hp);
            be.rope(q, config.heads(), positions, cos, sin, 1f, q);
            be.rope(k, config.kvHeads(), positions, cos, sin, 1f, k);
            Tensor kc = cache.keys(l), vc = cache.values(l);
            for (int b = 0; b < batch; b++) {
                int n = tokens[b].length;
                if (n > 0) { // real tokens only: the padding of a shorter sequence never reaches its cache
                    be.copy(k.slice(b * steps, n), kc.slice(b * cache.maxLen() + past[b], n));
                    be.copy(v.slice(b * steps, n), vc.slice(b * cache.maxLen() + past[b], n));
                }
            }
            Tensor attn = toProjectionType(Attention.cached(q, kc, vc, pastT, shape, config.slidingWindow()));
            Norms.Residual r = Norms.addRmsNorm(
                    x, project(p + "self_attn.o_proj", attn), tensors.get(p + "post_attention_layernorm.weight"), eps);
            x = r.sum();
            h = toProjectionType(r.normed());
            String nextNorm = l + 1 < config.layers()
                    ? "model.layers." + (l + 1) + ".input_layernorm.weight"
                    : "model.norm.weight";
            r = Norms.addRmsNorm(x, mlp(p, h), tensors.get(nextNorm), eps);
            x = r.sum();
            h = r.normed();
        }
        for (int b = 0; b < batch; b++) {
            cache.advance(b, tokens[b].length);
        }
        Tensor lastRows = Embeddings.lookup(h, Tensor.ofInts(device, last, batch));
        return MatMul.matmul(lastRows, false, head(), true);
    }

    /**
     * The mean next-token cross-entropy of the batch: the logits of {@link #logits} against i32 targets (one per
     * token, {@code ignoreIndex} for those not counted: prompt and padding), without materialising the
     * (tokens x vocab) logits. The LM head and the softmax run {@link #lossChunkRows} rows at a time
     * ({@link Losses#linearCrossEntropy}), so that a chunk's logits take at most {@link #LOSS_CHUNK_BYTES}: a 128k
     * vocabulary at 4k tokens would otherwise hold 2 GB of logits, and as much again for their gradient.
     */
    public Tensor loss(Tensor ids, Tensor targets, int ignoreIndex) {
        return loss(ids, targets, ignoreIndex, lossChunkRows(config.vocabSize(), ids.numel()));
    }

    /** {@link #loss(Tensor, Tensor, int)} with the logits computed {@code chunkRows} rows at a time. */
    public Tensor loss(Tensor ids, Tensor targets, int ignoreIndex, int chunkRows) {
        Tensor h = hidden(ids);
        Tensor loss = Losses.linearCrossEntropy(h, head(), targets, ignoreIndex, chunkRows);
        MemoryScope.release(h);
        return loss;
    }

    /**
     * The most a chunk of logits takes in {@link #loss}: 64 MiB (131 rows of a 128k vocabulary, 524 of a 32k one),
     * against 2 GB for 4k tokens of a 128k vocabulary at once. Each chunk reads the whole head twice (its logits, and
     * dh), so that smaller chunks cost time where the head is large: on the cpu backend, at 4096 tokens of a 128k
     * vocabulary (hidden 512), chunks of 32, 64 and 128 rows took 28.5, 18.6 and 15.7 s.
     */
    public static final long LOSS_CHUNK_BYTES = 64L << 20;

    /** The rows of logits {@link #loss} computes at a time for a batch of {@code tokens} over {@code vocabSize}. */
    public static int lossChunkRows(int vocabSize, long tokens) {
        long rows = LOSS_CHUNK_BYTES / (4L * vocabSize);
        return (int) Math.max(1, Math.min(Math.max(tokens, 1), rows));
    }

    /** The LM head: its own weight, or the embedding when they are tied. */
    private Tensor head() {
        return config.tieWordEmbeddings() ? tensors.get("model.embed_tokens.weight") : tensors.get("lm_head.weight");
    }

    /**
     * The final hidden states (tokens x hidden, f32, after the final norm). Each residual add and the RMSNorm that
     * reads its result are one op ({@link Norms#addRmsNorm}: one pass forward, one backward), and q and k are
     * rotated in place over the projections' outputs ({@link Rope#applyInPlace}). Every activation is released
     * ({@link MemoryScope#release}) after its last use here, so that a step holds only what the backward saved.
     */
    private Tensor hidden(Tensor ids) {
        if (ids.rank() != 2 || ids.dtype() != DType.I32) {
            throw new IllegalArgumentException("token ids must be an i32 (batch, seq) tensor, got " + ids.describe());
        }
        int batch = ids.dim(0), seq = ids.dim(1);
        RopeTables rope = ropeFor(seq);
        if (config.slidingWindow() > 0 && seq > config.slidingWindow()) {
            // within the window the sliding mask is the causal one; beyond it the attention kernels cannot mask
            throw new IllegalArgumentException("sequence length " + seq + " exceeds sliding_window "
                    + config.slidingWindow() + ", which attention does not implement beyond the window");
        }
        rope.ensure(seq);
        int[] pos = new int[batch * seq];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i % seq;
        }
        Tensor positions = Tensor.ofInts(device, pos, pos.length);
        AttentionShape shape =
                new AttentionShape(batch, seq, config.heads(), config.kvHeads(), config.headDim(), (float)
                        (1 / Math.sqrt(config.headDim())));
        float eps = (float) config.rmsNormEps();
        Tensor x = Embeddings.lookup(tensors.get("model.embed_tokens.weight"), ids);
        if (checkpointActivations) {
            for (int l = 0; l < config.layers(); l++) {
                String p = "model.layers." + l + ".";
                Tensor input = x;
                x = Checkpoint.apply(p + "checkpoint", x, layerTrainable(l), in -> {
                    Tensor h = projectionInput(Norms.rmsNorm(in, tensors.get(p + "input_layernorm.weight"), eps));
                    Norms.Residual r = attentionHalf(p, in, h, positions, rope, shape, eps);
                    Tensor y = Elementwise.add(r.sum(), mlp(p, projectionInput(r.normed())));
                    MemoryScope.release(r.sum());
                    return y;
                });
                MemoryScope.release(input);
            }
            Tensor out = Norms.rmsNorm(x, tensors.get("model.norm.weight"), eps);
            MemoryScope.release(x);
            return out;
        }
        Tensor h = Norms.rmsNorm(x, tensors.get("model.layers.0.input_layernorm.weight"), eps);
        for (int l = 0; l < config.layers(); l++) {
            String p = "model.layers." + l + ".";
            Norms.Residual r = attentionHalf(p, x, projectionInput(h), positions, rope, shape, eps);
            MemoryScope.release(x);
            x = r.sum();
            h = projectionInput(r.normed());
            String nextNorm = l + 1 < config.layers()
                    ? "model.layers." + (l + 1) + ".input_layernorm.weight"
                    : "model.norm.weight"; // the last block's residual feeds the final norm
            r = Norms.addRmsNorm(x, mlp(p, h), tensors.get(nextNorm), eps);
            MemoryScope.release(x);
            x = r.sum();
            h = r.normed();
        }
        MemoryScope.release(x);
        return h;
    }

    /**
     * The attention half of the block at {@code p}: q, k, v from the normed input h (q and k rotated in place: the
     * projections' outputs are fresh, and their backward keeps the projections' input), causal attention, the o
     * projection added to the residual x, and the post-attention norm of the sum, as one op.
     */
    private Norms.Residual attentionHalf(
            String p, Tensor x, Tensor h, Tensor positions, RopeTables rope, AttentionShape shape, float eps) {
        Tensor q = Rope.applyInPlace(projectBiased(p + "self_attn.q_proj", h), config.heads(), positions, rope);
        Tensor k = Rope.applyInPlace(projectBiased(p + "self_attn.k_proj", h), config.kvHeads(), positions, rope);
        Tensor v = projectBiased(p + "self_attn.v_proj", h);
        MemoryScope.release(h);
        Tensor attn = projectionInput(Attention.causal(q, k, v, shape));
        MemoryScope.release(q);
        MemoryScope.release(k);
        MemoryScope.release(v);
        Tensor o = project(p + "self_attn.o_proj", attn);
        MemoryScope.release(attn);
        Norms.Residual r = Norms.addRmsNorm(x, o, tensors.get(p + "post_attention_layernorm.weight"), eps);
        MemoryScope.release(o);
        return r;
    }

    /**
     * The rotary tables for sequences of {@code seq} positions: the model's own, or for dynamic NTK scaling beyond
     * the original context those of that length. HF recomputes the dynamic frequencies per forward from the
     * longest position run; so does this, from the current sequence length alone (HF also keeps the largest
     * length seen until a sequence within the original context resets it, so that its results depend on the
     * order of earlier calls).
     *
     * @throws IllegalArgumentException if {@code seq} exceeds max_position_embeddings (without dynamic scaling)
     */
    private RopeTables ropeFor(int seq) {
        RopeScaling s = config.ropeScaling();
        if (!s.dependsOnLength() || seq <= s.originalMaxPositions()) {
            if (seq > config.maxPositions()) {
                throw new IllegalArgumentException(
                        "sequence length " + seq + " exceeds max_position_embeddings " + config.maxPositions());
            }
            return rope;
        }
        // one table per length: on a host the garbage collector frees them with the model, on a device the
        // model's arena holds them
        return longRope.computeIfAbsent(
                seq,
                n -> RopeTables.onDemand(
                        device.isHost() ? Arena.ofAuto() : arena,
                        device,
                        config.headDim(),
                        n,
                        s.invFreq(config.headDim(), config.ropeTheta(), n)));
    }

    /** The projection's output plus its bias where the model has one (Qwen2's q, k and v). */
    private Tensor projectBiased(String path, Tensor in) {
        Tensor out = project(path, in);
        Tensor bias = tensors.get(path + ".bias");
        if (bias == null) {
            return out;
        }
        // ones (tokens x 1) · bias (1 x n): the bias on every row, through ops that every backend has
        float[] ones = new float[out.dim(0)];
        Arrays.fill(ones, 1f);
        Tensor rows = MatMul.matmul(Tensor.of(device, ones, ones.length, 1), Shapes.reshape(bias, 1, bias.dim(0)));
        Tensor biased = Elementwise.add(out, rows);
        MemoryScope.release(out);
        MemoryScope.release(rows);
        return biased;
    }

    /** The SwiGLU MLP of the block at {@code p} on its normed input h, in f32. */
    private Tensor mlp(String p, Tensor h) {
        Tensor gate = project(p + "mlp.gate_proj", h);
        Tensor up = project(p + "mlp.up_proj", h);
        MemoryScope.release(h);
        Tensor gated = projectionInput(Activations.siluMul(gate, up));
        MemoryScope.release(gate);
        MemoryScope.release(up);
        Tensor down = project(p + "mlp.down_proj", gated);
        MemoryScope.release(gated);
        return down;
    }

    /** What block l trains: its projections' trainable tensors (adapters, or weights) and its norms' weights. */
    private List<Tensor> layerTrainable(int l) {
        String p = "model.layers." + l + ".";
        List<Tensor> out = new ArrayList<>();
        for (String name : PROJECTIONS) {
            out.addAll(proj(p + name).trainable());
        }
        List<String> own = new ArrayList<>(List.of("input_layernorm.weight", "post_attention_layernorm.weight"));
        if (config.qkvBias()) {
            BIASED.forEach(b -> own.add(b + ".bias"));
        }
        for (String norm : own) {
            if (tensors.get(p + norm).requiresGrad()) {
                out.add(tensors.get(p + norm));
            }
        }
        return out;
    }

    /**
     * Activation checkpointing per decoder layer ({@link Checkpoint}): a layer keeps only its input for the
     * backward pass and runs its forward again there. A step then holds one (tokens x hidden) tensor per layer
     * instead of every activation, for about one more forward pass of time. Layers must compute the same thing
     * twice: no adapter dropout while this is on. Off by default.
     */
    public void checkpointActivations(boolean on) {
        this.checkpointActivations = on;
    }

    /** Whether {@link #checkpointActivations(boolean)} is on. */
    public boolean checkpointsActivations() {
        return checkpointActivations;
    }

    private LinearLayer proj(String path) {
        return projections.get(path);
    }

    /** The projection's output, back in f32 where the projections compute in bf16. */
    private Tensor project(String path, Tensor in) {
        Tensor out = proj(path).forward(in);
        Tensor f32 = Casts.convert(out, DType.F32);
        if (f32 != out) {
            MemoryScope.release(out);
        }
        return f32;
    }

    /**
     * An activation (a fresh one, which the caller has no further use for) in the projections' type: itself in f32,
     * else a bf16 copy, and the f32 one released.
     */
    private Tensor projectionInput(Tensor h) {
        Tensor p = toProjectionType(h);
        if (p != h) {
            MemoryScope.release(h);
        }
        return p;
    }

    private Tensor toProjectionType(Tensor h) {
        return Casts.convert(h, projectionType);
    }

    /**
     * Stores every projection weight in bf16 (new tensors owned by {@code arena}) and runs the seven projections of
     * each block as bf16 GEMMs with f32 accumulation: on a GPU, the tensor-core form of the work that dominates a
     * step. Embeddings, RMSNorm, RoPE, attention, SwiGLU, the head and the loss stay f32, the parts autocast too
     * keeps in f32; activations are rounded to bf16 at each projection's input and widened at its output, and the
     * gradients take the same conversions back. Adapters injected afterwards keep f32 factors (DoRA refuses bf16).
     * Call it on a freshly loaded model, before adapters or quantisation; the f32 weights stay in the arena that
     * loaded them, and the pages of those mapped from a file are released once converted. A weight mapped from a
     * file is converted from a copy made one weight at a time, so a file truncated meanwhile is an
     * {@link java.io.UncheckedIOException}, not a crash.
     */
    public void useBf16Projections(Arena arena) {
        for (Map.Entry<String, LinearLayer> e : projections.entrySet()) {
            if (!(e.getValue() instanceof Linear l) || l.weight().dtype() != DType.F32) {
                throw new IllegalStateException(
                        "bf16 projections are set on a plain f32 model, before adapters or " + "quantisation; "
                                + e.getKey() + " is " + e.getValue().getClass().getSimpleName());
            }
        }
        Backend be = Backends.of(device);
        projections.replaceAll((path, layer) -> {
            Tensor w = ((Linear) layer).weight();
            Tensor b = Tensor.empty(arena, device, DType.BF16, w.shape().dims()).named(w.name());
            if (w.isMapped()) {
                // the kernel reads a copy: a mapped file truncated under it would crash the JVM in native code
                try (Arena staging = Arena.ofConfined()) {
                    Tensor copy = w.copyInto(staging, device);
                    w.releaseMappedPages();
                    be.convert(copy, b);
                }
            } else {
                be.convert(w, b);
            }
            return new Linear(path, b);
        });
        projectionType = DType.BF16;
    }

    /** The type the projections compute in: f32, or bf16 after {@link #useBf16Projections}. */
    public DType projectionType() {
        return projectionType;
    }

    /** The seven projections of every block by path ({@code model.layers.N.self_attn.q_proj}, ...), in model order. */
    @Override
    public Map<String, LinearLayer> linearLayers() {
        return Collections.unmodifiableMap(projections);
    }

    @Override
    public void replaceLinearLayers(UnaryOperator<LinearLayer> replace) {
        projections.replaceAll((path, layer) -> Module.checkReplacement(layer, replace.apply(layer)));
    }

    /** {@code setTrainable(false)}: no base weight is dequantised to find it. */
    @Override
    public void freeze() {
        setTrainable(false);
    }

    /**
     * Sets requiresGrad on every f32 base weight: true to pre-train the whole model, false to freeze it.
     * Quantised projections stay frozen either way.
     */
    public void setTrainable(boolean trainable) {
        tensors.values().forEach(t -> t.requiresGrad(trainable));
        for (LinearLayer p : projections.values()) {
            if (p instanceof Linear l) {
                l.weight().requiresGrad(trainable);
            }
        }
    }

    /** The base weights that require a gradient. */
    public List<Tensor> trainableWeights() {
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : namedTensors().values()) {
            if (t.requiresGrad()) {
                out.add(t);
            }
        }
        return out;
    }

    /**
     * The base weights by HF name (not the adapters'), in HF order. A projection's entry is its current weight:
     * the f32 tensor of a plain layer (merged updates included), a dequantised copy for an NF4 layer.
     */
    @Override
    public Map<String, Tensor> namedTensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : expectedShapes(config).keySet()) {
            LinearLayer p = name.endsWith(".weight")
                    ? projections.get(name.substring(0, name.length() - ".weight".length()))
                    : null;
            if (p == null) {
                out.put(name, tensors.get(name));
            } else {
                FrozenLinear f = p.frozen();
                out.put(
                        name,
                        f instanceof Linear l ? l.weight() : f.denseWeight().named(name));
            }
        }
        return out;
    }

    /** Number of base parameters. */
    @Override
    public long parameterCount() {
        long n = 0;
        for (int[] dims : expectedShapes(config).values()) {
            long k = 1;
            for (int d : dims) {
                k *= d;
            }
            n += k;
        }
        return n;
    }

    @Override
    public void train(boolean training) {
        projections.values().forEach(p -> p.train(training));
    }
}
