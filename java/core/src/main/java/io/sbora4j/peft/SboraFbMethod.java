package io.sbora4j.peft;

import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Map;

/** SBoRA-FB: B is r standard-basis columns picked by idx (into the outputs), A trained ({@link SboraFbAdapter}). */
final class SboraFbMethod implements AdapterMethod {

    @Override
    public String id() {
        return "sbora-fb";
    }

    @Override
    public String description() {
        return "SBoRA-FB: B fixed to r standard-basis columns (an index list into the outputs), A (r x in) trained;"
                + " a merge changes r rows";
    }

    /** r·in: half of LoRA's on a square weight. */
    @Override
    public long trainableParameters(long out, long in, long r) {
        return r * in;
    }

    /** r distinct output rows. */
    @Override
    public int maxRank(int out, int in) {
        return out;
    }

    @Override
    public Adapter create(AdapterConfig config, FrozenLinear base, Arena arena) {
        Tensor idx = AdapterInit.indices(config, base, base.outFeatures(), arena);
        Tensor a = AdapterInit.zeros(base, "lora_A", arena, config.r(), base.inFeatures());
        return new SboraFbAdapter(
                this, base.name(), base.outFeatures(), idx, a, config.scaling(), AdapterInit.dropout(config, base));
    }

    @Override
    public Map<String, TensorSpec> storedTensors(int out, int in, int r) {
        return Map.of("lora_A", TensorSpec.f32(r, in), "idx", TensorSpec.i32(r));
    }

    /** The index list: r distinct row indices in range. */
    @Override
    public void checkStored(String path, Map<String, Tensor> stored, int out, int in, int r) {
        IndexSelection.explicit(path, stored.get("idx").toIntArray(), out, r);
    }

    /** A as stored; B as r one-hot columns, column j = e_idx[j]. */
    @Override
    public Map<String, Tensor> toPeft(
            String path, Map<String, Tensor> stored, int out, int in, AdapterConfig config, Arena arena) {
        int r = config.r();
        int[] idx = IndexSelection.explicit(path, stored.get("idx").toIntArray(), out, r);
        Tensor oneHot = IndexSelection.oneHot(path, "lora_B", arena, out, r);
        for (int j = 0; j < r; j++) {
            oneHot.setFloat((long) idx[j] * r + j, 1f);
        }
        return Map.of("lora_A.weight", stored.get("lora_A"), "lora_B.weight", oneHot);
    }

    @Override
    public String toString() {
        return id();
    }
}
