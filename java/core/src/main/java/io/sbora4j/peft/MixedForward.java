package io.sbora4j.peft;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.util.Map;

/**
 * One adapted layer over a mixed batch ({@link AdapterRouting}): the base GEMM once over all rows, then each
 * adapter's path over its own rows, grouped by adapter as Punica and S-LoRA do. A group made of long contiguous runs of
 * rows (whole sequences in prefill) is computed run by run on row views of x and y, with the same kernels as the
 * single-adapter forward; a group of short runs (one token per sequence in decoding) gathers its rows of x, computes
 * its update in f32 and scatter-adds it into its rows of y (one rounding, as the fused path). Not recorded by autograd.
 */
final class MixedForward {

    /**
     * Runs at least this long (on average) are computed run by run on views; shorter ones are gathered. Gathering
     * costs a copy of the rows of x, a zeroed (rows x out) f32 buffer and a scatter-add of it into y, which on the
     * cpu backend cost more than 8 small GEMMs of 16 rows each (1024 x 1024 layer, r = 16: 1.7 ms gathered against
     * 1.1 ms run by run for 8 adapters over 64 sequences of 16 tokens); single-token runs (decoding) are gathered.
     */
    static final int MIN_RUN_ROWS = 16;

    private MixedForward() {}

    static Tensor apply(FrozenLinear base, Map<String, Adapter> adapters, Tensor x2, AdapterRouting routing) {
        Backend be = Backends.of(x2.device());
        Tensor y = base.forwardRaw(x2);
        for (AdapterRouting.Group g : routing.groups()) {
            Adapter a = adapters.get(g.name());
            if (a == null) {
                continue; // this layer lacks the adapter: its rows keep the base output, as in a plain forward
            }
            if (a instanceof DoraAdapter) {
                dora(be, base, a, x2, y, g);
            } else if (g.contiguous()
                    || g.rows().length >= MIN_RUN_ROWS * g.runs().size()) {
                for (int[] run : g.runs()) {
                    addDelta(be, a, x2.slice(run[0], run[1]), y.slice(run[0], run[1]));
                }
            } else {
                Tensor rows = g.rowIndex(x2.device());
                int n = g.rows().length;
                Tensor xg = Tensor.empty(x2.device(), x2.dtype(), n, x2.dim(1));
                be.gatherRows(x2, rows, xg);
                Tensor yg = Tensor.zeros(x2.device(), n, y.dim(1));
                addDelta(be, a, xg, yg);
                be.indexAddRows(y, rows, yg, 1f);
            }
        }
        return y;
    }

    /** y += the adapter's update for the rows x: s·x[:, idx]·Bᵀ, scatter of s·x·Aᵀ into idx, or s·(x·Aᵀ)·Bᵀ. */
    private static void addDelta(Backend be, Adapter a, Tensor x, Tensor y) {
        Map<String, Tensor> t = a.tensors();
        float s = a.scaling();
        if (a instanceof SboraFaAdapter) {
            be.gatherGemm(x, t.get("idx"), t.get("lora_B"), true, s, y, null);
        } else if (a instanceof SboraFbAdapter) {
            be.gemmScatter(x, t.get("lora_A"), true, t.get("idx"), s, y);
        } else if (a instanceof LoraAdapter) {
            Tensor xa = AdapterKernels.gemm(be, false, true, 1f, x, t.get("lora_A"), x.dim(0), a.rank(), x.dtype());
            be.gemm(false, true, s, xa, t.get("lora_B"), 1f, y);
        } else {
            throw new IllegalArgumentException("no mixed-batch path for adapter " + a);
        }
    }

    /**
     * DoRA scales each output column of (base + LoRA update) by m / ‖W + sBA‖ (row norms of W', one per output): the
     * scale is the adapter's, so it is computed once per layer and applied to the adapter's rows, run by run, as
     * y[rows] = c ⊙ (y[rows] + s·(x[rows]·Aᵀ)·Bᵀ).
     */
    private static void dora(Backend be, FrozenLinear base, Adapter a, Tensor x2, Tensor y, AdapterRouting.Group g) {
        Map<String, Tensor> t = a.tensors();
        Tensor w = base.denseWeight(), am = t.get("lora_A"), bm = t.get("lora_B");
        Tensor wp = w.emptyLike();
        be.copy(w, wp);
        be.gemm(false, false, a.scaling(), bm, am, 1f, wp);
        Tensor norms = Tensor.empty(x2.device(), DType.F32, w.dim(0));
        be.rowNorm(wp, norms);
        Tensor c = norms.emptyLike();
        be.div(t.get("magnitude"), norms, c);
        for (int[] run : g.runs()) {
            Tensor xs = x2.slice(run[0], run[1]), ys = y.slice(run[0], run[1]);
            Tensor z = ys.emptyLike();
            be.copy(ys, z);
            Tensor xa = AdapterKernels.gemm(be, false, true, 1f, xs, am, run[1], a.rank());
            be.gemm(false, true, a.scaling(), xa, bm, 1f, z);
            be.scaleCols(z, c, ys);
        }
    }
}
