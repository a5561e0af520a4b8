package io.sbora4j.peft;

import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Map;

/** LoRA and, with A frozen, LoRA-FA: the baselines ({@link LoraAdapter}). */
final class LoraMethod implements AdapterMethod {

    private final boolean frozenA;

    LoraMethod(boolean frozenA) {
        this.frozenA = frozenA;
    }

    @Override
    public String id() {
        return frozenA ? "lora-fa" : "lora";
    }

    @Override
    public String description() {
        return frozenA
                ? "LoRA-FA: A (r x in) random and frozen, B (out x r) trained"
                : "LoRA: A (r x in, random) and B (out x r, zeros) trained";
    }

    /** LoRA r(in + out), LoRA-FA out·r. */
    @Override
    public long trainableParameters(long out, long in, long r) {
        return frozenA ? out * r : r * (in + out);
    }

    @Override
    public int maxRank(int out, int in) {
        return Math.min(out, in);
    }

    @Override
    public Adapter create(AdapterConfig config, FrozenLinear base, Arena arena) {
        int r = config.r();
        Tensor a = AdapterInit.random(config, base, "lora_A", "init", r, base.inFeatures(), arena)
                .requiresGrad(!frozenA);
        Tensor b = AdapterInit.zeros(base, "lora_B", arena, base.outFeatures(), r);
        return new LoraAdapter(this, base.name(), a, b, config.scaling(), frozenA, AdapterInit.dropout(config, base));
    }

    @Override
    public Map<String, TensorSpec> storedTensors(int out, int in, int r) {
        return Map.of("lora_A", TensorSpec.f32(r, in), "lora_B", TensorSpec.f32(out, r));
    }

    @Override
    public Map<String, Tensor> toPeft(
            String path, Map<String, Tensor> stored, int out, int in, AdapterConfig config, Arena arena) {
        return Map.of("lora_A.weight", stored.get("lora_A"), "lora_B.weight", stored.get("lora_B"));
    }

    /** QLoRA (Dettmers et al. 2023). */
    @Override
    public String quantizedName() {
        return frozenA ? "qlora-fa" : "qlora";
    }

    @Override
    public String toString() {
        return id();
    }
}
