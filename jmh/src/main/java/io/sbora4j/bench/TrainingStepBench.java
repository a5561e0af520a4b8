package io.sbora4j.bench;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.data.SftData;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.ops.Losses;
import io.sbora4j.optim.AdamW;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One whole training step of a LLaMA with adapters on all seven projections of every block: forward, mean
 * cross-entropy over every token, backward, one AdamW update and zeroed gradients (what {@code Trainer} does per
 * step, without accumulation, clipping or progress). Tokens per second are {@code batch·seq / (ms per step / 1000)}
 * ({@link #tokensPerStep()}); {@link StepCpuTime} measures the same step's CPU time against its wall time.
 *
 * <p>{@code method=base} is the frozen model with no adapter, the floor every adapter is measured from: only the
 * weight of layer 0's input RMSNorm is trained (a vector of {@code hidden} floats), so that the backward runs through
 * every activation of the network, computing dx of every projection, with no weight gradient of any size.
 *
 * <p>{@link #gemmsOnly} runs the step's GEMMs alone: the same calls on the same shapes through the same backend
 * ({@code Backend.gemm}), on the model's own weights and preallocated activations, with no autograd, allocation or
 * other kernel between them. {@code gemmsOnly / step} is the share of the step spent in GEMMs, measured in one run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
public class TrainingStepBench {

    /** The {@code method} value that trains no adapter (the frozen model's step). */
    public static final String BASE = "base";

    @Param({"base", "lora", "sbora-fa", "sbora-fb"})
    public String method;

    /**
     * {@code tiny}: hidden 512, intermediate 1376, 4 layers, 8 heads / 4 KV heads, vocab 320, batch 8 x 128 tokens.
     * {@code layer1b}: one decoder layer of TinyLlama-1.1B (hidden 2048, intermediate 5632, 32 heads / 4 KV heads,
     * vocab 32000, untied head), batch 1 x 256. {@code full1b}: the whole of it (22 layers; 4.4 GB of f32
     * weights, so not among the JMH defaults). {@code smoke}: a few-millisecond shape for the tests.
     */
    @Param({"tiny", "layer1b"})
    public String shape;

    @Param({"16"})
    public int r = 16;

    /** The backend: cpu, or cuda on a GPU machine. */
    @Param({"cpu"})
    public String device = "cpu";

    /** A step's shape: the model and its batch. */
    record StepShape(LlamaConfig config, int batch, int seq) {

        static StepShape of(String name) {
            return switch (name) {
                case "tiny" -> new StepShape(new LlamaConfig(320, 512, 1376, 4, 8, 4, 1e-5, 10000, 128, false), 8, 128);
                case "layer1b" ->
                    new StepShape(new LlamaConfig(32000, 2048, 5632, 1, 32, 4, 1e-5, 10000, 256, false), 1, 256);
                case "full1b" ->
                    new StepShape(new LlamaConfig(32000, 2048, 5632, 22, 32, 4, 1e-5, 10000, 256, false), 1, 256);
                case "smoke" -> new StepShape(new LlamaConfig(64, 32, 48, 2, 4, 2, 1e-5, 10000, 16, false), 2, 8);
                default ->
                    throw new IllegalArgumentException(
                            "shape must be tiny, layer1b, full1b or smoke, not '" + name + "'");
            };
        }

        int tokens() {
            return batch * seq;
        }
    }

    /** One {@code Backend.gemm} call of the step: c = alpha·op(a)·op(b) + beta·c. */
    record Gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {}

    private Arena arena;
    private Backend backend;
    private StepShape stepShape;
    private LlamaModel model;
    private AdamW optimizer;
    private List<Tensor> trainable;
    private Tensor ids;
    private Tensor targets;
    private List<Gemm> gemms;
    /** The loss of the last step (for the Blackhole, and the tests). */
    float lastLoss;

    @Setup(Level.Trial)
    public void setup() {
        stepShape = StepShape.of(shape);
        Device dev = BenchTensors.device(device);
        backend = Backends.of(dev);
        // Shared, not confined: JMH does not promise that setup and measurement run on the same thread.
        arena = Arena.ofShared();
        LlamaConfig cfg = stepShape.config();
        model = LlamaModel.random(cfg, BenchTensors.SEED, dev, arena);
        if (BASE.equals(method)) {
            model.freeze();
            Tensor norm = model.namedTensors().get("model.layers.0.input_layernorm.weight");
            norm.requiresGrad(true);
            trainable = List.of(norm);
        } else {
            AdapterConfig config = AdapterConfig.of(AdapterMethods.of(method), r, 2.0 * r);
            trainable = PeftModel.inject(model, config, arena).trainable();
        }
        optimizer = new AdamW(trainable, AdamW.Config.lr(1e-4));
        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
        int n = stepShape.tokens();
        int[] tokens = new int[n + 1];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rng.nextInt(cfg.vocabSize());
        }
        int[] next = new int[n];
        System.arraycopy(tokens, 1, next, 0, n);
        int[] in = new int[n];
        System.arraycopy(tokens, 0, in, 0, n);
        ids = Tensor.ofInts(arena, dev, in, stepShape.batch(), stepShape.seq());
        targets = Tensor.ofInts(arena, dev, next, n);
        gemms = stepGemms();
    }

    @Benchmark
    @SuppressWarnings("try") // the scope is held for its extent, never referenced
    public float step() {
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor loss = Losses.crossEntropy(model.logits(ids), targets, SftData.IGNORE);
            lastLoss = loss.item();
            Autograd.backward(loss);
        }
        optimizer.step();
        optimizer.zeroGrad();
        backend.synchronize();
        return lastLoss;
    }

    /** The step's GEMMs alone, in its order (see the class comment). */
    @Benchmark
    public int gemmsOnly() {
        for (Gemm g : gemms) {
            backend.gemm(g.transA(), g.transB(), g.alpha(), g.a(), g.b(), g.beta(), g.c());
        }
        backend.synchronize();
        return gemms.size();
    }

    /**
     * The GEMMs {@link #step} issues, on the model's weights: per projection the frozen forward {@code y = x·Wᵀ}
     * and, where the projection's input needs a gradient, {@code dx = dy·W}, plus the adapter's GEMMs of rank r as
     * its method computes them; then the head's {@code logits = x·Hᵀ} and {@code dx = dlogits·H}. Layer 0's q, k and
     * v take an input that needs no gradient when only adapters train (the embedding and the norm are frozen), so
     * they compute no dx there.
     */
    private List<Gemm> stepGemms() {
        LlamaConfig cfg = stepShape.config();
        Map<String, Tensor> weights = model.namedTensors();
        Map<String, Tensor> buffers = new HashMap<>();
        List<Gemm> out = new ArrayList<>();
        int t = stepShape.tokens();
        float s = 2f; // alpha / r with alpha = 2r
        boolean base = BASE.equals(method);
        for (int l = 0; l < cfg.layers(); l++) {
            for (String p : LlamaModel.PROJECTIONS) {
                String name = "model.layers." + l + "." + p + ".weight";
                Tensor w = weights.get(name);
                int outF = w.dim(0), inF = w.dim(1);
                boolean dx = base || l > 0 || !p.startsWith("self_attn.") || p.equals("self_attn.o_proj");
                Tensor x = buffer(buffers, "x", t, inF);
                Tensor y = buffer(buffers, "y", t, outF);
                Tensor dy = buffer(buffers, "dy", t, outF);
                Tensor dxb = buffer(buffers, "dx", t, inF);
                out.add(new Gemm(false, true, 1f, x, w, 0f, y));
                if (dx) {
                    out.add(new Gemm(false, false, 1f, dy, w, 0f, dxb));
                }
                if (!base) {
                    adapterGemms(out, buffers, t, inF, outF, s, dx);
                }
            }
        }
        Tensor head = weights.get("lm_head.weight");
        int vocab = head.dim(0), hidden = head.dim(1);
        out.add(new Gemm(false, true, 1f, buffer(buffers, "x", t, hidden), head, 0f, buffer(buffers, "y", t, vocab)));
        out.add(new Gemm(
                false, false, 1f, buffer(buffers, "dy", t, vocab), head, 0f, buffer(buffers, "dx", t, hidden)));
        return List.copyOf(out);
    }

    /** The rank-r GEMMs of one adapted projection, as {@code LoraAdapter} and the SBoRA adapters call them. */
    private void adapterGemms(
            List<Gemm> out, Map<String, Tensor> buffers, int t, int inF, int outF, float s, boolean dx) {
        Tensor x = buffer(buffers, "x", t, inF);
        Tensor y = buffer(buffers, "y", t, outF);
        Tensor dy = buffer(buffers, "dy", t, outF);
        Tensor dxb = buffer(buffers, "dx", t, inF);
        Tensor tr = buffer(buffers, "t", t, r); // x·Aᵀ, x[:, idx], dy·B, dy[:, idx]
        Tensor a = buffer(buffers, "A", r, inF);
        Tensor b = buffer(buffers, "B", outF, r);
        Tensor da = buffer(buffers, "dA", r, inF);
        Tensor db = buffer(buffers, "dB", outF, r);
        switch (method) {
            case "lora" -> {
                Tensor u = buffer(buffers, "u", t, r); // dy·B
                out.add(new Gemm(false, true, 1f, x, a, 0f, tr)); // xa = x·Aᵀ
                out.add(new Gemm(false, true, s, tr, b, 1f, y)); // y += s·xa·Bᵀ
                out.add(new Gemm(true, false, s, dy, tr, 0f, db)); // dB = s·dyᵀ·xa
                out.add(new Gemm(false, false, 1f, dy, b, 0f, u)); // t = dy·B
                out.add(new Gemm(true, false, s, u, x, 0f, da)); // dA = s·tᵀ·x
                if (dx) {
                    out.add(new Gemm(false, false, s, u, a, 1f, dxb)); // dx += s·t·A
                }
            }
            case "sbora-fa" -> {
                out.add(new Gemm(false, true, s, tr, b, 1f, y)); // y += s·x[:, idx]·Bᵀ
                if (dx) {
                    out.add(new Gemm(false, false, 1f, dy, b, 0f, buffer(buffers, "u", t, r))); // dy·B, scattered
                }
                out.add(new Gemm(true, false, s, dy, tr, 0f, db)); // dB = s·dyᵀ·x[:, idx]
            }
            case "sbora-fb" -> {
                out.add(new Gemm(false, true, 1f, x, a, 0f, tr)); // x·Aᵀ, scattered into y[:, idx]
                if (dx) {
                    out.add(new Gemm(false, false, s, tr, a, 1f, dxb)); // dx += s·dy[:, idx]·A
                }
                out.add(new Gemm(true, false, s, tr, x, 0f, da)); // dA = s·dy[:, idx]ᵀ·x
            }
            default ->
                throw new IllegalArgumentException(
                        "gemmsOnly knows base, lora, sbora-fa and sbora-fb, not '" + method + "'");
        }
    }

    /** A buffer per role and shape, filled with small values (no NaN or subnormal can slow a kernel down). */
    private Tensor buffer(Map<String, Tensor> buffers, String role, int rows, int cols) {
        return buffers.computeIfAbsent(role + rows + "x" + cols, k -> {
            Tensor b = Tensor.empty(arena, model.device(), DType.F32, rows, cols);
            backend.fill(b, 0.01f);
            return b;
        });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (optimizer != null) {
            optimizer.close();
        }
        if (arena != null) {
            arena.close();
        }
    }

    /** Tokens one step trains on. */
    public int tokensPerStep() {
        return StepShape.of(shape).tokens();
    }

    // For the tests.
    List<Tensor> trainable() {
        return trainable;
    }

    List<Gemm> gemms() {
        return gemms;
    }
}
