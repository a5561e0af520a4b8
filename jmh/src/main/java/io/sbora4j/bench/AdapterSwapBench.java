package io.sbora4j.bench;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.Linear;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.Adapter;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
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
 * The cost of changing which adapter one (d x d) layer serves, per layer: {@code swapInOut} is an exact hot-swap
 * cycle ({@link AdaptedLinear#swapIn}: copy out the region the merge overwrites, merge; then
 * {@link AdaptedLinear#swapOut}: copy it back), which is what moving from one adapter to the next costs; {@code
 * mergeUnmerge} is the inexact cycle, {@code W += sΔW; W -= sΔW}, the only way back without a copy.
 *
 * <p>SBoRA-FA copies r columns (out·r elements), SBoRA-FB r rows, LoRA the whole weight (its ΔW is dense). A 7B-shaped
 * model has 32 layers of 7 projections; the per-layer figure times 224 estimates a whole-model swap (its MLP
 * projections are 4096 x 11008, larger than this square layer).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
public class AdapterSwapBench {

    @Param({"sbora-fa", "sbora-fb", "lora"})
    public String method;

    @Param({"4096"})
    public int d;

    @Param({"16", "64"})
    public int r;

    /** The weight's type: f32 or bf16 (the factors stay f32). */
    @Param({"f32"})
    public String dtype = "f32";

    private Arena arena;
    private Backend backend;
    private AdaptedLinear layer;
    private Tensor w;
    private Adapter adapter;

    @Setup(Level.Trial)
    public void setup() {
        DType type = BenchTensors.dtype(dtype);
        Device dev = BenchTensors.device("cpu");
        backend = Backends.of(dev);
        arena = Arena.ofShared(); // setup and measurement may run on different JMH threads
        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
        w = BenchTensors.gaussian(arena, dev, type, rng, 1 / Math.sqrt(d), d, d).named("layer.weight");
        layer = AdaptedLinear.wrap(new Linear("layer", w));
        layer.addAdapter("x", AdapterConfig.of(AdapterMethods.of(method), r, 2.0 * r), arena);
        adapter = layer.adapter("x");
        for (Tensor t : adapter.trainable()) {
            BenchTensors.fillGaussian(t, rng, 0.01); // a trained adapter: a merge of zeros proves nothing
        }
    }

    @Benchmark
    public float swapInOut() {
        layer.swapIn("x");
        layer.swapOut();
        return w.getFloat(0);
    }

    @Benchmark
    @SuppressWarnings("try") // the resources are held for their extent, never referenced
    public float mergeUnmerge() {
        try (MemoryScope scope = MemoryScope.open();
                NoGrad noGrad = NoGrad.enter()) {
            adapter.merge(w);
            adapter.unmerge(w);
        }
        return w.getFloat(0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (arena != null) {
            backend.synchronize();
            arena.close();
        }
    }

    // For the tests.
    Tensor weight() {
        return w;
    }

    AdaptedLinear layer() {
        return layer;
    }
}
