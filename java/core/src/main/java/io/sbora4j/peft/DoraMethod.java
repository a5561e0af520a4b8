package io.sbora4j.peft;

import io.sbora4j.backend.Backends;
import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Locale;
import java.util.Map;

/** DoRA: LoRA on the direction of W, plus a trained magnitude per output row ({@link DoraAdapter}). */
final class DoraMethod implements AdapterMethod {

    @Override
    public String id() {
        return "dora";
    }

    @Override
    public String description() {
        return "DoRA: LoRA's A and B on the direction of W, plus a trained magnitude per output row";
    }

    /** r(in + out) + out. */
    @Override
    public long trainableParameters(long out, long in, long r) {
        return r * (in + out) + out;
    }

    @Override
    public int maxRank(int out, int in) {
        return Math.min(out, in);
    }

    /** The weight norm runs in f32 only. */
    @Override
    public void checkBase(FrozenLinear base) {
        if (base.computeType() != DType.F32) {
            throw new IllegalArgumentException("layer '" + base.name() + "': DoRA needs an f32 base weight (its "
                    + "weight norm runs in f32 only); a "
                    + base.computeType().name().toLowerCase(Locale.ROOT)
                    + " layer takes lora, lora-fa, sbora-fa or sbora-fb");
        }
    }

    /** A as LoRA's, B zeros, m = ‖W‖ per row, so that the adapted layer starts equal to the base. */
    @Override
    public Adapter create(AdapterConfig config, FrozenLinear base, Arena arena) {
        int r = config.r();
        Tensor a = AdapterInit.random(config, base, "lora_A", "init", r, base.inFeatures(), arena)
                .requiresGrad(true);
        Tensor b = AdapterInit.zeros(base, "lora_B", arena, base.outFeatures(), r);
        Tensor m = AdapterInit.zeros(base, "magnitude", arena, base.outFeatures());
        Backends.of(base.device()).rowNorm(base.denseWeight(), m);
        return new DoraAdapter(this, base.name(), a, b, m, config.scaling(), AdapterInit.dropout(config, base));
    }

    @Override
    public Map<String, TensorSpec> storedTensors(int out, int in, int r) {
        return Map.of(
                "lora_A", TensorSpec.f32(r, in), "lora_B", TensorSpec.f32(out, r), "magnitude", TensorSpec.f32(out));
    }

    @Override
    public Map<String, Tensor> toPeft(
            String path, Map<String, Tensor> stored, int out, int in, AdapterConfig config, Arena arena) {
        return Map.of(
                "lora_A.weight",
                stored.get("lora_A"),
                "lora_B.weight",
                stored.get("lora_B"),
                "lora_magnitude_vector",
                stored.get("magnitude"));
    }

    @Override
    public Map<String, Object> peftConfig() {
        return Map.of("use_dora", true);
    }

    @Override
    public String toString() {
        return id();
    }
}
