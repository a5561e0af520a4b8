package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** Token embedding lookup. */
public final class Embeddings {

    private Embeddings() {}

    /** Rows {@code ids} of {@code weight} (vocab x hidden): (tokens x hidden). Ids may repeat. */
    public static Tensor lookup(Tensor weight, Tensor ids) {
        Checks.f32SameDevice("embedding", weight);
        Checks.matrix("embedding", weight);
        if (ids.dtype() != DType.I32 || ids.device() != weight.device()) {
            throw new IllegalArgumentException(
                    "embedding: ids must be i32 on " + weight.device() + ", got " + ids.describe());
        }
        int vocab = weight.dim(0);
        for (int id : ids.toIntArray()) { // a kernel reading outside the table would fault, on any device
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException(
                        "embedding: token id " + id + " outside the vocabulary [0, " + vocab + ")");
            }
        }
        Backend be = Backends.of(weight.device());
        Tensor flat = ids.view((int) ids.numel());
        Tensor out = Tensor.empty(weight.device(), DType.F32, (int) ids.numel(), weight.dim(1));
        be.gatherRows(weight, flat, out);
        return Autograd.record(out, "embedding", List.of(weight), List.of(), g -> {
            Tensor dw = Tensor.zeros(weight.device(), weight.shape().dims());
            be.indexAddRows(dw, flat, g, 1f);
            return new Tensor[] {dw};
        });
    }
}
