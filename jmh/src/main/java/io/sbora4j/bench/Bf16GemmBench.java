package io.sbora4j.bench;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
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
 * A frozen projection's two GEMMs through the backend, in f32 or with everything in bf16 (weight, activations,
 * outputs; f32 accumulation): {@code y = x·Wᵀ} and {@code dx = dy·W}, W {@code out x in}. With {@code dtype=f32}
 * these are two {@code cblas_sgemm} calls; with {@code bf16} the cpu backend's panels of widened bf16 around them.
 * The ratio of the two at one shape, in one run, is the price of keeping the weight in bf16.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
public class Bf16GemmBench {

    /** Type of the weight, the activations and the outputs. */
    @Param({"f32", "bf16"})
    public String dtype;

    /** {@code in x out} of the weight: the small LLaMA's projections and TinyLlama-1.1B's. */
    @Param({"512x1376", "1376x512", "2048x2048", "2048x5632", "5632x2048"})
    public String shape;

    @Param({"1024"})
    public int tokens;

    private Arena arena;
    private Backend backend;
    private Tensor w;
    private Tensor x;
    private Tensor dy;
    private Tensor y;
    private Tensor dx;

    @Setup(Level.Trial)
    public void setup() {
        Device dev = BenchTensors.device("cpu");
        backend = Backends.of(dev);
        arena = Arena.ofShared();
        String[] io = shape.split("x");
        int in = Integer.parseInt(io[0]), out = Integer.parseInt(io[1]);
        DType type = BenchTensors.dtype(dtype);
        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
        w = BenchTensors.gaussian(arena, dev, type, rng, 1 / Math.sqrt(in), out, in);
        x = BenchTensors.gaussian(arena, dev, type, rng, 1, tokens, in);
        dy = BenchTensors.gaussian(arena, dev, type, rng, 1, tokens, out);
        y = Tensor.empty(arena, dev, type, tokens, out);
        dx = Tensor.empty(arena, dev, type, tokens, in);
    }

    @Benchmark
    public Tensor forwardBackward() {
        backend.gemm(false, true, 1f, x, w, 0f, y);
        backend.gemm(false, false, 1f, dy, w, 0f, dx);
        return dx;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }
}
