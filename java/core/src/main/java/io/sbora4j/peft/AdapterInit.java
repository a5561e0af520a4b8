package io.sbora4j.peft;

import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * The seeded starting values adapter methods share, for {@link AdapterMethod#create}: trained factors at zero,
 * LoRA-style random factors, SBoRA index lists and dropout streams. Every value is a function of the config's seed
 * and the layer's name, so an adapter is the same on every run and every device.
 */
public final class AdapterInit {

    private AdapterInit() {}

    /** A trained tensor of zeros named {@code <layer path>.<name>}, owned by {@code arena}, on the layer's device. */
    public static Tensor zeros(FrozenLinear base, String name, Arena arena, int... dims) {
        return Tensor.zeros(arena, base.device(), dims)
                .named(base.name() + "." + name)
                .requiresGrad(true);
    }

    /**
     * A random (rows x cols) factor named {@code <layer path>.<name>} from the layer's {@code stream} stream, by the
     * config's {@link AdapterConfig.Init}: Kaiming-uniform U(-1/√cols, 1/√cols) ({@code kaiming_uniform_(a=√5)},
     * PEFT's default for LoRA's A) or N(0, 1/r). Not trained until the caller asks for a gradient.
     */
    public static Tensor random(
            AdapterConfig config, FrozenLinear base, String name, String stream, int rows, int cols, Arena arena) {
        SplittableRandom rng = Seeds.forLayer(config.seed(), base.name(), stream);
        float[] v = new float[Math.multiplyExact(rows, cols)];
        double bound = 1.0 / Math.sqrt(cols);
        for (int i = 0; i < v.length; i++) {
            v[i] = config.init() == AdapterConfig.Init.GAUSSIAN
                    ? (float) (gaussian(rng) / config.r())
                    : (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return Tensor.of(arena, base.device(), v, rows, cols).named(base.name() + "." + name);
    }

    /**
     * The layer's r standard-basis indices into a dimension of size {@code dim}, as an i32 tensor named
     * {@code <layer path>.idx}: the config's explicit list for the layer if it has one (checked), else drawn
     * without replacement from the layer's {@code indices} stream ({@link IndexSelection}).
     */
    public static Tensor indices(AdapterConfig config, FrozenLinear base, int dim, Arena arena) {
        String path = base.name();
        int[] explicit = config.indices().get(path);
        int[] idx = explicit != null
                ? IndexSelection.explicit(path, explicit, dim, config.r())
                : IndexSelection.draw(config.seed(), path, dim, config.r());
        return Tensor.ofInts(arena, base.device(), idx, idx.length).named(path + ".idx");
    }

    /** The dropout on the layer's adapter input: the config's probability, the layer's own stream. */
    public static DropoutStream dropout(AdapterConfig config, FrozenLinear base) {
        return new DropoutStream(config.dropout(), config.seed(), base.name());
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
    }
}
