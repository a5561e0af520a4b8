package io.sbora4j.bench;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.Linear;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.AdapterRouting;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
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
 * One (d x d) layer's inference forward over a batch of {@code sequences} x {@code seq} tokens in which sequence b
 * uses SBoRA-FA adapter {@code b % adapters} ({@code mixed}: one base GEMM over all rows, then per adapter the gather
 * GEMM over its rows; with 1 < adapters < sequences each adapter's rows are scattered, so they are gathered), against
 * the same batch with one adapter merged into W ({@code merged}: the base GEMM alone, the floor) and with one adapter
 * unmerged ({@code single}: base GEMM + one gather GEMM over all rows). The ratio mixed / merged is the price of
 * serving many adapters in one batch instead of one merged adapter per batch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
public class MixedBatchBench {

    @Param({"1", "8", "64"})
    public int adapters;

    @Param({"1024"})
    public int d;

    @Param({"64"})
    public int sequences;

    @Param({"16"})
    public int seq;

    @Param({"16"})
    public int r;

    private Arena arena;
    private Backend backend;
    private AdaptedLinear layer;
    private AdaptedLinear mergedLayer;
    /** The same adapters over a base whose GEMM hands back a fixed buffer: the adapter paths alone. */
    private AdaptedLinear pathLayer;

    private Tensor x;
    private AdapterRouting routing;

    @Setup(Level.Trial)
    public void setup() {
        Device dev = BenchTensors.device("cpu");
        backend = Backends.of(dev);
        arena = Arena.ofShared();
        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
        Tensor w = BenchTensors.gaussian(arena, dev, rng, 1 / Math.sqrt(d), d, d);
        layer = AdaptedLinear.wrap(new Linear("layer", w));
        List<String> names = new ArrayList<>();
        for (int a = 0; a < adapters; a++) {
            String n = "a" + a;
            layer.addAdapter(
                    n, AdapterConfig.of(AdapterMethods.SBORA_FA, r, 2.0 * r).withSeed(a), arena);
            layer.adapter(n).trainable().forEach(t -> BenchTensors.fillGaussian(t, rng, 0.01));
        }
        for (int b = 0; b < sequences; b++) {
            names.add("a" + (b % adapters));
        }
        routing = AdapterRouting.perSequence(names, seq);
        layer.setActive("a0");
        // A copy of W with adapter a0 swapped in: what serving one adapter per batch computes.
        Tensor w2 = Tensor.empty(arena, dev, w.dtype(), d, d);
        w2.copyFrom(w);
        mergedLayer = AdaptedLinear.wrap(new Linear("merged", w2));
        mergedLayer.addAdapter(
                "a0", AdapterConfig.of(AdapterMethods.SBORA_FA, r, 2.0 * r).withSeed(0), arena);
        mergedLayer.adapter("a0").load(layer.adapter("a0").tensors()); // B and idx alike
        mergedLayer.swapIn("a0");
        x = BenchTensors.gaussian(arena, dev, rng, 1, sequences * seq, d);
        Tensor y = Tensor.zeros(arena, dev, sequences * seq, d);
        pathLayer = AdaptedLinear.wrap(new FixedOutputBase(new Linear("layer", w), y, x));
        for (var e : layer.adapters().entrySet()) {
            pathLayer.addAdapter(e.getKey(), AdapterConfig.of(AdapterMethods.SBORA_FA, r, 2.0 * r), arena);
            pathLayer.adapter(e.getKey()).load(e.getValue().tensors());
        }
        pathLayer.setActive("a0");
    }

    @Benchmark
    @SuppressWarnings("try")
    public float mixed() {
        try (MemoryScope scope = MemoryScope.open();
                NoGrad noGrad = NoGrad.enter();
                AdapterRouting open = routing.open()) {
            return layer.forward(x).getFloat(0);
        }
    }

    @Benchmark
    @SuppressWarnings("try")
    public float merged() {
        try (MemoryScope scope = MemoryScope.open();
                NoGrad noGrad = NoGrad.enter()) {
            return mergedLayer.forward(x).getFloat(0);
        }
    }

    @Benchmark
    @SuppressWarnings("try")
    public float single() {
        try (MemoryScope scope = MemoryScope.open();
                NoGrad noGrad = NoGrad.enter()) {
            return layer.forward(x).getFloat(0);
        }
    }

    /**
     * {@link #mixed} without the base GEMM: what serving many adapters adds to the base model's time, measured
     * directly rather than as the small difference of two large, noisy times.
     */
    @Benchmark
    @SuppressWarnings("try")
    public float mixedPathOnly() {
        try (MemoryScope scope = MemoryScope.open();
                NoGrad noGrad = NoGrad.enter();
                AdapterRouting open = routing.open()) {
            return pathLayer.forward(x).getFloat(0);
        }
    }

    /** {@link #single} without the base GEMM: one adapter's gather GEMM over all rows. */
    @Benchmark
    @SuppressWarnings("try")
    public float singlePathOnly() {
        try (MemoryScope scope = MemoryScope.open();
                NoGrad noGrad = NoGrad.enter()) {
            return pathLayer.forward(x).getFloat(0);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (arena != null) {
            backend.synchronize();
            arena.close();
        }
    }

    // For the tests.
    AdaptedLinear layer() {
        return layer;
    }

    AdaptedLinear mergedLayer() {
        return mergedLayer;
    }

    Tensor input() {
        return x;
    }

    AdapterRouting routing() {
        return routing;
    }
}
