package io.sbora4j.peft;

import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Map;

/** SBoRA-FA: A is r standard-basis rows picked by idx (into the inputs), B trained ({@link SboraFaAdapter}). */
final class SboraFaMethod implements AdapterMethod {

    @Override
    public String id() {
        return "sbora-fa";
    }

    @Override
    public String description() {
        return "SBoRA-FA: A fixed to r standard-basis rows (an index list into the inputs), B (out x r) trained;"
                + " a merge changes r columns";
    }

    /** out·r: half of LoRA's on a square weight. */
    @Override
    public long trainableParameters(long out, long in, long r) {
        return out * r;
    }

    /** r distinct input columns. */
    @Override
    public int maxRank(int out, int in) {
        return in;
    }

    @Override
    public Adapter create(AdapterConfig config, FrozenLinear base, Arena arena) {
        Tensor idx = AdapterInit.indices(config, base, base.inFeatures(), arena);
        Tensor b = AdapterInit.zeros(base, "lora_B", arena, base.outFeatures(), config.r());
        return new SboraFaAdapter(
                this, base.name(), base.inFeatures(), idx, b, config.scaling(), AdapterInit.dropout(config, base));
    }

    @Override
    public Map<String, TensorSpec> storedTensors(int out, int in, int r) {
        return Map.of("lora_B", TensorSpec.f32(out, r), "idx", TensorSpec.i32(r));
    }

    /** The index list: r distinct column indices in range. */
    @Override
    public void checkStored(String path, Map<String, Tensor> stored, int out, int in, int r) {
        IndexSelection.explicit(path, stored.get("idx").toIntArray(), in, r);
    }

    /** B as stored; A as r one-hot rows, row j = e_idx[j]. */
    @Override
    public Map<String, Tensor> toPeft(
            String path, Map<String, Tensor> stored, int out, int in, AdapterConfig config, Arena arena) {
        int r = config.r();
        int[] idx = IndexSelection.explicit(path, stored.get("idx").toIntArray(), in, r);
        Tensor oneHot = IndexSelection.oneHot(path, "lora_A", arena, r, in);
        for (int j = 0; j < r; j++) {
            oneHot.setFloat((long) j * in + idx[j], 1f);
        }
        return Map.of("lora_A.weight", oneHot, "lora_B.weight", stored.get("lora_B"));
    }

    @Override
    public String toString() {
        return id();
    }
}
