package io.sbora4j.bench;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.Linear;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
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
 * One training step's worth of work on ONE adapted linear layer: forward, then backward with a fixed output
 * gradient, on a frozen square (d x d) weight and {@code tokens} input rows. {@code method=base} is the frozen
 * {@link Linear} alone, the floor every adapter's overhead is measured from.
 *
 * <p>The input stands for the output of an upstream layer: a non-leaf tensor whose graph node receives dx and drops
 * it, as a previous layer would consume it. That makes every layer compute dx (the big dy·W GEMM) without dx
 * being accumulated into a leaf's gradient, which would add a copy or an axpy over (tokens x d) floats that no
 * real layer pays, and, if cleared with {@code setGrad(null)}, a fresh (tokens x d) allocation in the trial arena
 * per invocation that is only freed at the end of the trial.
 *
 * <p>The adapter's gradients are zeroed after each invocation, as {@code AdamW.zeroGrad()} does in training: the
 * first invocation allocates them (in warmup), every later one accumulates into zeros, so all measured invocations
 * do the same work and no memory grows.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
public class AdapterLayerBench {

    /** The {@code method} value that benchmarks the frozen layer without an adapter. */
    public static final String BASE = "base";

    @Param({"base", "lora", "lora-fa", "dora", "sbora-fa", "sbora-fb"})
    public String method;

    @Param({"2048", "4096"})
    public int d;

    @Param({"1024"})
    public int tokens;

    @Param({"16", "64"})
    public int r;

    /** The backend: cpu, or cuda on a GPU machine ({@code -p device=cuda}). */
    @Param({"cpu"})
    public String device = "cpu";

    /** Output features; 0 means d (a square weight). LLaMA-7B's MLP is 4096 x 11008. */
    @Param({"0"})
    public int dout = 0;

    /** Type of the frozen weight, the activations and their gradients: f32, or bf16 (factors stay f32). */
    @Param({"f32"})
    public String dtype = "f32";

    /**
     * How SBoRA's gather and scatter GEMMs run: {@code fused} (one kernel each), {@code unfused} (a gather and the
     * BLAS GEMM) or {@code auto} (the backend's choice by shape).
     */
    @Param({"fused"})
    public String route = "fused";

    private Arena arena;
    private Backend backend;
    private Linear base;
    /** Null for {@link #BASE}. */
    private AdaptedLinear layer;
    /** The same adapter over {@link FixedOutputBase}: the adapter path alone. Null for {@link #BASE}. */
    private AdaptedLinear pathOnly;

    private List<Tensor> trainable;
    /** The input's memory; each invocation wraps it in a fresh graph node. */
    private Tensor x;

    private Tensor dy;
    /** The leaf the input's node hangs from: it requires a gradient and never receives one. */
    private Tensor upstream;
    /** Stand-ins for y = x·Wᵀ and dx = dy·W in {@link #adapterPathOnly}. */
    private Tensor yBuffer;

    private Tensor dxBuffer;
    /** dx[0, 0] of the last backward pass: proof that dx was computed, and something to hand to the Blackhole. */
    float lastDx;

    @Setup(Level.Trial)
    public void setup() {
        Device dev = BenchTensors.device(device, route);
        backend = Backends.of(dev);
        DType type = BenchTensors.dtype(dtype);
        int out = dout == 0 ? d : dout;
        // Shared, not confined: JMH does not promise that setup and measurement run on the same thread.
        arena = Arena.ofShared();
        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
        Tensor w = BenchTensors.gaussian(arena, dev, type, rng, 1 / Math.sqrt(d), out, d)
                .named("layer.weight");
        base = new Linear("layer", w);
        x = BenchTensors.gaussian(arena, dev, type, rng, 1, tokens, d);
        dy = BenchTensors.gaussian(arena, dev, type, rng, 1, tokens, out);
        upstream = Tensor.empty(arena, dev, type, 1).requiresGrad(true);
        yBuffer = Tensor.empty(arena, dev, type, tokens, out);
        dxBuffer = Tensor.empty(arena, dev, type, tokens, d);
        if (BASE.equals(method)) {
            layer = null;
            trainable = List.of();
            return;
        }
        AdapterConfig config = AdapterConfig.of(AdapterMethods.of(method), r, 2.0 * r);
        layer = AdaptedLinear.attach(base, config, arena);
        pathOnly = AdaptedLinear.attach(new FixedOutputBase(base, yBuffer, dxBuffer), config, arena);
        trainable = layer.trainable();
        // LoRA's B and SBoRA's trained factor start at zero: give them the small values of an adapter in
        // mid-training, so that DoRA's norms are of a real W + sBA and no path computes on all-zero data.
        for (AdaptedLinear l : List.of(layer, pathOnly)) {
            SplittableRandom values = new SplittableRandom(BenchTensors.SEED + 1);
            for (Tensor t : l.trainable()) {
                if (t != l.adapter().tensors().get("magnitude")) { // DoRA's m is set from ‖W‖ by attach
                    BenchTensors.fillGaussian(t, values, 0.01);
                }
            }
        }
    }

    @Benchmark
    @SuppressWarnings("try") // the resources are held for their extent, never referenced
    public float forwardBackward() {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor in = upstreamOutput();
            Tensor y = layer == null ? base.forward(in) : layer.forward(in);
            Autograd.backward(y, dy);
            for (Tensor t : trainable) {
                backend.fill(t.grad(), 0f);
            }
            backend.synchronize(); // a GPU has only queued the work so far
        }
        return lastDx;
    }

    /**
     * The adapter path alone: the same forward and backward with the two frozen GEMMs replaced by fixed buffers
     * ({@link FixedOutputBase}). Its time is the adapter's overhead measured directly, instead
     * of as the difference of two ~350 ms times on a noisy machine. For {@code base} there is no adapter: nothing
     * is timed but the call.
     */
    @Benchmark
    @SuppressWarnings("try")
    public float adapterPathOnly() {
        if (layer == null) {
            return 0f;
        }
        try (MemoryScope step = MemoryScope.open()) {
            Tensor in = upstreamOutput();
            Tensor y = pathOnly.forward(in);
            Autograd.backward(y, dy);
            for (Tensor t : pathOnly.trainable()) {
                backend.fill(t.grad(), 0f);
            }
            backend.synchronize();
        }
        return lastDx;
    }

    /** x as the output of an upstream op whose backward takes dx and hands nothing further back. */
    private Tensor upstreamOutput() {
        return Autograd.record(x.detach(), "upstream", List.of(upstream), List.of(), dx -> {
            lastDx = dx.device().isHost() ? dx.getFloat(0) : 0f; // reading GPU memory would time a copy too
            return new Tensor[] {null};
        });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    // For the tests: the setup's tensors.
    Tensor input() {
        return x;
    }

    Tensor outputGradient() {
        return dy;
    }

    Linear baseLayer() {
        return base;
    }

    List<Tensor> trainable() {
        return trainable;
    }
}
