package io.sbora4j.peft;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/** Creates the adapter a config asks for beside one (out x in) layer, with its seeded initial values. */
final class Adapters {

    private Adapters() {}

    static Adapter create(AdapterConfig cfg, String path, int out, int in, Device device, Arena arena) {
        int r = cfg.r();
        int max = cfg.method().maxRank(out, in);
        if (r > max) {
            throw new IllegalArgumentException("layer '" + path + "': r=" + r + " exceeds " + max + ", the largest rank "
                    + cfg.method() + " allows for a " + out + "x" + in + " weight");
        }
        float s = cfg.scaling();
        DropoutStream dropout = new DropoutStream(cfg.dropout(), cfg.seed(), path);
        return switch (cfg.method()) {
            case SBORA_FA -> new SboraFaAdapter(path, indexTensor(cfg, path, in, arena, device),
                    param(arena, device, path + ".lora_B", out, r), s, dropout);
            case SBORA_FB -> new SboraFbAdapter(path, indexTensor(cfg, path, out, arena, device),
                    param(arena, device, path + ".lora_A", r, in), s, dropout);
            case LORA, LORA_FA -> {
                boolean frozen = cfg.method() == AdapterMethod.LORA_FA;
                Tensor a = randomA(cfg, path, r, in, arena, device).requiresGrad(!frozen);
                yield new LoraAdapter(path, a, param(arena, device, path + ".lora_B", out, r), s, frozen,
                        dropout);
            }
            case DORA -> {
                Tensor a = randomA(cfg, path, r, in, arena, device).requiresGrad(true);
                Tensor m = param(arena, device, path + ".magnitude", out); // set by AdaptedLinear from ‖W‖
                yield new DoraAdapter(path, a, param(arena, device, path + ".lora_B", out, r), m, s, dropout);
            }
        };
    }

    private static Tensor param(Arena arena, Device device, String name, int... dims) {
        return Tensor.zeros(arena, device, dims).named(name).requiresGrad(true);
    }

    private static Tensor indexTensor(AdapterConfig cfg, String path, int dim, Arena arena, Device device) {
        int[] explicit = cfg.indices().get(path);
        int[] idx = explicit != null ? IndexSelection.explicit(path, explicit, dim, cfg.r())
                                     : IndexSelection.draw(cfg.seed(), path, dim, cfg.r());
        return Tensor.ofInts(arena, device, idx, idx.length).named(path + ".idx");
    }

    /** LoRA's A: Kaiming-uniform U(-1/√in, 1/√in) or N(0, 1/r), from the layer's "init" stream. */
    private static Tensor randomA(AdapterConfig cfg, String path, int r, int in, Arena arena, Device device) {
        SplittableRandom rng = Seeds.forLayer(cfg.seed(), path, "init");
        float[] v = new float[r * in];
        double bound = 1.0 / Math.sqrt(in);
        for (int i = 0; i < v.length; i++) {
            v[i] = cfg.init() == AdapterConfig.Init.GAUSSIAN
                    ? (float) (gaussian(rng) / r)
                    : (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return Tensor.of(arena, device, v, r, in).named(path + ".lora_A");
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
    }
}
