package io.sbora4j.bench;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.nn.Linear;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.quant.MergeMode;
import io.sbora4j.quant.Nf4Weight;
import io.sbora4j.quant.QuantizedLinear;
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
 * QSBoRA against SBoRA: one adapted d x d layer, forward + backward, over an f32 base or an NF4 base that is
 * dequantised on the fly ({@code layerStep}); and the raw speed of NF4 dequantisation beside a plain f32 copy of
 * the same output size, the memory-bandwidth yardstick measured in the same run ({@code dequantize},
 * {@code copyF32}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
public class QuantBench {

    @Param({"f32", "nf4"})
    public String base;

    @Param({"sbora-fa", "lora"})
    public String method;

    @Param({"2048", "4096"})
    public int d;

    @Param({"1024"})
    public int tokens;

    @Param({"16"})
    public int r;

    private Arena arena;
    private Backend backend;
    private AdaptedLinear layer;
    private Nf4Weight nf4;
    private Tensor x;
    private Tensor dy;
    private Tensor upstream;
    private Tensor dequantized;
    private Tensor source;

    @Setup(Level.Trial)
    public void setup() {
        Device dev = BenchTensors.device("cpu");
        backend = Backends.of(dev);
        arena = Arena.ofShared();
        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
        Tensor w = BenchTensors.gaussian(arena, dev, rng, 1 / Math.sqrt(d), d, d);
        Linear f32 = new Linear("layer", w);
        FrozenLinear frozen = "nf4".equals(base) ? QuantizedLinear.quantize(f32, MergeMode.OVERLAY, arena) : f32;
        nf4 = frozen instanceof QuantizedLinear q ? q.nf4() : Nf4Weight.quantize(w, arena);
        layer = AdaptedLinear.attach(frozen, AdapterConfig.of(AdapterMethods.of(method), r, 2.0 * r), arena);
        for (Tensor t : layer.trainable()) {
            BenchTensors.fillGaussian(t, rng, 0.01);
        }
        x = BenchTensors.gaussian(arena, dev, rng, 1, tokens, d);
        dy = BenchTensors.gaussian(arena, dev, rng, 1, tokens, d);
        upstream = Tensor.zeros(arena, dev, 1).requiresGrad(true);
        dequantized = Tensor.zeros(arena, dev, d, d);
        source = BenchTensors.gaussian(arena, dev, rng, 1, d, d);
    }

    /** Forward + backward of the adapted layer (dx computed, as for a layer inside a model). */
    @Benchmark
    @SuppressWarnings("try")
    public Tensor layerStep() {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor in =
                    Autograd.record(x.detach(), "upstream", List.of(upstream), List.of(), dx -> new Tensor[] {null});
            Autograd.backward(layer.forward(in), dy);
            for (Tensor t : layer.trainable()) {
                backend.fill(t.grad(), 0f);
            }
        }
        return dequantized;
    }

    /** The whole d x d NF4 weight to f32: reads n/2 + n/16 bytes, writes 4n. */
    @Benchmark
    public Tensor dequantize() {
        nf4.dequantize(0, dequantized);
        return dequantized;
    }

    /** An f32 copy of the same size (reads 4n, writes 4n): what the memory system gives a streaming kernel. */
    @Benchmark
    public Tensor copyF32() {
        backend.copy(source, dequantized);
        return dequantized;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }
}
