package io.sbora4j.bench;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.Linear;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.Adapter;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
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
 * Folding an adapter into its (d x d) weight and taking it back out: one invocation is {@code merge} followed by
 * {@code unmerge}, so the reported time is that of the pair.
 *
 * <p>Why the pair and not merge alone: merge changes W, so timing it alone needs W restored between invocations,
 * i.e. {@code @Setup(Level.Invocation)}, whose own overhead (timestamps, a barrier) JMH documents as acceptable
 * only for operations of milliseconds. LoRA's merge at d=4096 is that long, SBoRA-FB's (r rows of W) takes
 * microseconds. Unmerge does the same work as merge for every method, so the pair is symmetric and half of it is a
 * fair merge time. W drifts by float rounding only (W + sΔW - sΔW), which changes no timing.
 *
 * <p>The bytes each SBoRA merge moves, and the GB/s that makes, are derived by the report
 * ({@code io.sbora4j.bench.report.MergeTraffic}), not here.
 *
 * <p>On a GPU ({@code -p device=cuda}) each invocation ends with {@link Backend#synchronize()}, since the device
 * has only queued the work when the calls return. With {@code -p dtype=bf16} W is bf16 and the factors stay f32:
 * lora, lora-fa, sbora-fa and sbora-fb merge into it; DoRA refuses a bf16 weight (its norm runs in f32 only), so
 * its setup fails with an {@link IllegalArgumentException} that says so: JMH records that trial as failed (with
 * {@code -foe false} the run goes on), and the report shows no figure for it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
public class MergeBench {

    @Param({"lora", "lora-fa", "dora", "sbora-fa", "sbora-fb"})
    public String method;

    @Param({"2048", "4096"})
    public int d;

    @Param({"16", "64"})
    public int r;

    /** The backend: cpu, or cuda on a GPU machine ({@code -p device=cuda}). */
    @Param({"cpu"})
    public String device = "cpu";

    /** The weight's type: f32, or bf16 (the factors stay f32; not for dora). */
    @Param({"f32"})
    public String dtype = "f32";

    private Arena arena;
    private Backend backend;
    private Tensor w;
    private Adapter adapter;

    @Setup(Level.Trial)
    public void setup() {
        DType type = BenchTensors.dtype(dtype);
        AdapterMethod m = AdapterMethods.of(method);
        if (m == AdapterMethods.DORA && type != DType.F32) {
            throw new IllegalArgumentException("MergeBench: dora takes an f32 weight only, not " + dtype
                    + " (DoRA's weight norm runs in f32); measure it with -p dtype=f32");
        }
        Device dev = BenchTensors.device(device);
        backend = Backends.of(dev);
        arena = Arena.ofShared(); // setup and measurement may run on different JMH threads
        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
        w = BenchTensors.gaussian(arena, dev, type, rng, 1 / Math.sqrt(d), d, d).named("layer.weight");
        AdaptedLinear layer = AdaptedLinear.attach(new Linear("layer", w), AdapterConfig.of(m, r, 2.0 * r), arena);
        adapter = layer.adapter();
        for (Tensor t : adapter.trainable()) {
            if (t != adapter.tensors().get("magnitude")) { // DoRA's m is ‖W‖, set by attach
                BenchTensors.fillGaussian(t, rng, 0.01); // a trained adapter: a merge of zeros proves nothing
            }
        }
        backend.synchronize();
    }

    @Benchmark
    @SuppressWarnings("try") // the resources are held for their extent, never referenced
    public float mergeUnmerge() {
        // The scope frees DoRA's temporaries; NoGrad is what AdaptedLinear.merge() runs it under.
        try (MemoryScope scope = MemoryScope.open();
                NoGrad noGrad = NoGrad.enter()) {
            adapter.merge(w);
            adapter.unmerge(w);
            backend.synchronize(); // a GPU has only queued the work so far
        }
        // Reading W on a GPU would time a device-to-host copy too.
        return w.device().isHost() ? w.getFloat(0) : 0f;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (arena != null) { // null when setup refused the parameters
            backend.synchronize();
            arena.close();
        }
    }

    // For the tests.
    Tensor weight() {
        return w;
    }

    Adapter adapter() {
        return adapter;
    }
}
