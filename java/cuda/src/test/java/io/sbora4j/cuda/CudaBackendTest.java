package io.sbora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.AdamWStep;
import io.sbora4j.backend.AttentionShape;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.Linear;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.ops.Losses;
import io.sbora4j.ops.RopeTables;
import io.sbora4j.optim.AdamW;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.CudaAvailability;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kernel of the cuda backend against the reference backend, on random and awkward shapes (one row, r = 1,
 * r = dimension, sizes that are not multiples of a warp or a block), then whole adapted layers, AdamW and a LLaMA
 * training step on cuda against the reference backend (which needs no native library: the GPU bundle carries no
 * OpenBLAS). Without a usable GPU every test is skipped with the reason, except in the build's run on the emulated
 * device, where an unusable backend fails it ({@link CudaAvailability}).
 */
@Tag("cuda")
class CudaBackendTest {

    /** The default cuda device (a handle: creating it loads nothing). */
    private static final Device CUDA = Backends.device("cuda");

    private static Backend cuda;
    private static final Backend REF = Backends.of(Device.REFERENCE);

    /** (rows, cols, r) triples: one row, one column, r = 1, r = cols, odd sizes, a multi-block size. */
    private static final int[][] SHAPES = {
        {1, 1, 1}, {1, 37, 37}, {7, 33, 1}, {33, 65, 17}, {257, 129, 64}, {1024, 513, 100}, {3, 4096, 64}
    };

    private MemoryScope scope;

    @BeforeEach
    void gpu() {
        CudaAvailability.assumeUsable();
        cuda = Backends.of(CUDA);
        scope = MemoryScope.open(); // device tensors live in a scope (or an arena of their own)
    }

    @AfterEach
    void closeScope() {
        if (scope != null) {
            scope.close();
            scope = null;
        }
    }

    private static Tensor onCuda(Tensor host) {
        return host.to(CUDA);
    }

    private static void close(String what, Tensor expected, Tensor actual, double tol) {
        float[] e = expected.toFloatArray(), a = actual.toFloatArray();
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++) {
            assertTrue(
                    Math.abs(e[i] - a[i]) <= tol * Math.max(1, Math.abs(e[i])),
                    what + " at " + i + ": " + e[i] + " vs " + a[i]);
        }
    }

    @Test
    void gemmWithEveryTransposeCombination() {
        SplittableRandom rng = new SplittableRandom(1);
        for (int[] s : new int[][] {{1, 1, 1}, {5, 7, 3}, {33, 65, 129}, {256, 512, 64}}) {
            int m = s[0], n = s[1], k = s[2];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    Tensor a = ta ? Rand.tensor(rng, Device.REFERENCE, k, m) : Rand.tensor(rng, Device.REFERENCE, m, k);
                    Tensor b = tb ? Rand.tensor(rng, Device.REFERENCE, n, k) : Rand.tensor(rng, Device.REFERENCE, k, n);
                    Tensor c = Rand.tensor(rng, Device.REFERENCE, m, n), cc = onCuda(c);
                    REF.gemm(ta, tb, 0.5f, a, b, 0.25f, c);
                    cuda.gemm(ta, tb, 0.5f, onCuda(a), onCuda(b), 0.25f, cc);
                    close("gemm " + m + "x" + n + "x" + k + " " + ta + tb, c, cc, 1e-4);
                }
            }
        }
    }

    @Test
    void gathersAndIndexAddsAreExact() {
        SplittableRandom rng = new SplittableRandom(2);
        for (int[] s : SHAPES) {
            int rows = s[0], cols = s[1], r = Math.min(s[2], cols);
            Tensor x = Rand.tensor(rng, Device.REFERENCE, rows, cols);
            int[] ci = Rand.distinct(rng, cols, r);
            Tensor idx = Tensor.ofInts(Device.REFERENCE, ci, r);
            Tensor out = Tensor.zeros(Device.REFERENCE, rows, r), outC = onCuda(out);
            REF.gatherCols(x, idx, out);
            cuda.gatherCols(onCuda(x), onCuda(idx), outC);
            close("gatherCols", out, outC, 0);
            Tensor xc = onCuda(x);
            REF.indexAddCols(x, idx, out, 0.75f);
            cuda.indexAddCols(xc, onCuda(idx), outC, 0.75f);
            close("indexAddCols", x, xc, 0);
            int rr = Math.min(s[2], rows);
            int[] ri = new int[rr];
            for (int j = 0; j < rr; j++) {
                ri[j] = rng.nextInt(rows); // repeats allowed: they accumulate
            }
            Tensor ridx = Tensor.ofInts(Device.REFERENCE, ri, rr);
            Tensor src = Rand.tensor(rng, Device.REFERENCE, rr, cols);
            Tensor dst = Rand.tensor(rng, Device.REFERENCE, rows, cols), dstC = onCuda(dst);
            REF.indexAddRows(dst, ridx, src, -1.5f);
            cuda.indexAddRows(dstC, onCuda(ridx), onCuda(src), -1.5f);
            close("indexAddRows", dst, dstC, 1e-6); // atomics may add repeats in another order
            Tensor rowsOut = Tensor.zeros(Device.REFERENCE, rr, cols), rowsOutC = onCuda(rowsOut);
            REF.gatherRows(dst, ridx, rowsOut);
            cuda.gatherRows(onCuda(dst), onCuda(ridx), rowsOutC);
            close("gatherRows", rowsOut, rowsOutC, 0);
        }
    }

    @Test
    void elementwiseReductionsAndRowColumnOps() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int[] s : SHAPES) {
            int rows = s[0], cols = s[1], n = rows * cols;
            Tensor a = Rand.tensor(rng, Device.REFERENCE, rows, cols),
                    b = Rand.tensor(rng, Device.REFERENCE, rows, cols);
            Tensor ac = onCuda(a), bc = onCuda(b);
            Tensor out = Tensor.zeros(Device.REFERENCE, rows, cols), outC = onCuda(out);
            REF.add(a, b, out);
            cuda.add(ac, bc, outC);
            close("add", out, outC, 0);
            REF.sub(a, b, out);
            cuda.sub(ac, bc, outC);
            close("sub", out, outC, 0);
            REF.mul(a, b, out);
            cuda.mul(ac, bc, outC);
            close("mul", out, outC, 0);
            REF.div(a, b, out);
            cuda.div(ac, bc, outC);
            close("div", out, outC, 1e-7);
            REF.scale(a, 1.7f, out);
            cuda.scale(ac, 1.7f, outC);
            close("scale", out, outC, 0);
            Tensor y = onCuda(b);
            REF.axpy(0.3f, a, b);
            cuda.axpy(0.3f, ac, y);
            close("axpy", b, y, 0);
            assertEquals(REF.sum(a), cuda.sum(ac), 1e-9 * n + 1e-9, "sum");
            assertEquals(REF.dot(a, b), cuda.dot(ac, y), 1e-9 * n + 1e-9, "dot");
            Tensor withNan = a.to(Device.REFERENCE);
            withNan.setFloat(n - 1, Float.NaN);
            assertEquals(1, cuda.countNonFinite(onCuda(withNan)), "countNonFinite");
            Tensor norms = Tensor.zeros(Device.REFERENCE, rows), normsC = onCuda(norms);
            REF.rowNorm(a, norms);
            cuda.rowNorm(ac, normsC);
            close("rowNorm", norms, normsC, 1e-6);
            Tensor sr = Rand.tensor(rng, Device.REFERENCE, rows), sc = Rand.tensor(rng, Device.REFERENCE, cols);
            REF.scaleRows(a, sr, out);
            cuda.scaleRows(ac, onCuda(sr), outC);
            close("scaleRows", out, outC, 0);
            REF.scaleCols(a, sc, out);
            cuda.scaleCols(ac, onCuda(sc), outC);
            close("scaleCols", out, outC, 0);
            Tensor cd = Tensor.zeros(Device.REFERENCE, cols), cdC = onCuda(cd);
            REF.colDot(a, b, cd);
            cuda.colDot(ac, y, cdC); // y: b after the axpy, as REF.colDot sees it
            close("colDot", cd, cdC, 1e-5);
            Tensor t = Tensor.zeros(Device.REFERENCE, cols, rows), tC = onCuda(t);
            REF.transpose(a, t);
            cuda.transpose(ac, tC);
            close("transpose", t, tC, 0);
            REF.fill(out, 2.5f);
            cuda.fill(outC, 2.5f);
            close("fill", out, outC, 0);
        }
    }

    @Test
    void transformerLayerKernels() {
        SplittableRandom rng = new SplittableRandom(4);
        int rows = 37, n = 129;
        Tensor x = Rand.tensor(rng, Device.REFERENCE, rows, n), w = Rand.tensor(rng, Device.REFERENCE, n);
        Tensor dy = Rand.tensor(rng, Device.REFERENCE, rows, n);
        Tensor y = Tensor.zeros(Device.REFERENCE, rows, n), rstd = Tensor.zeros(Device.REFERENCE, rows);
        Tensor yC = onCuda(y), rstdC = onCuda(rstd);
        REF.rmsNormForward(x, w, 1e-6f, y, rstd);
        cuda.rmsNormForward(onCuda(x), onCuda(w), 1e-6f, yC, rstdC);
        close("rmsnorm", y, yC, 1e-5);
        Tensor dx = Tensor.zeros(Device.REFERENCE, rows, n), dw = Tensor.zeros(Device.REFERENCE, n);
        Tensor dxC = onCuda(dx), dwC = onCuda(dw);
        REF.rmsNormBackward(x, w, rstd, dy, dx, dw);
        cuda.rmsNormBackward(onCuda(x), onCuda(w), rstdC, onCuda(dy), dxC, dwC);
        close("rmsnorm dx", dx, dxC, 1e-4);
        close("rmsnorm dw", dw, dwC, 1e-4);

        RopeTables tr = new RopeTables(Arena.ofAuto(), Device.REFERENCE, 10, 64, 10000);
        RopeTables tc = new RopeTables(Arena.ofAuto(), CUDA, 10, 64, 10000);
        Tensor q = Rand.tensor(rng, Device.REFERENCE, 9, 30);
        int[] p = {0, 1, 2, 63, 5, 6, 7, 8, 40};
        Tensor pos = Tensor.ofInts(Device.REFERENCE, p, 9);
        Tensor ro = Tensor.zeros(Device.REFERENCE, 9, 30), roC = onCuda(ro);
        REF.rope(q, 3, pos, tr.cos(), tr.sin(), -1f, ro);
        cuda.rope(onCuda(q), 3, onCuda(pos), tc.cos(), tc.sin(), -1f, roC);
        close("rope", ro, roC, 1e-6);

        Tensor g = Rand.tensor(rng, Device.REFERENCE, 1001), u = Rand.tensor(rng, Device.REFERENCE, 1001);
        Tensor d = Rand.tensor(rng, Device.REFERENCE, 1001);
        Tensor o = Tensor.zeros(Device.REFERENCE, 1001), oC = onCuda(o);
        REF.siluMulForward(g, u, o);
        cuda.siluMulForward(onCuda(g), onCuda(u), oC);
        close("silu", o, oC, 1e-6);
        Tensor dg = Tensor.zeros(Device.REFERENCE, 1001), du = Tensor.zeros(Device.REFERENCE, 1001);
        Tensor dgC = onCuda(dg), duC = onCuda(du);
        REF.siluMulBackward(g, u, d, dg, du);
        cuda.siluMulBackward(onCuda(g), onCuda(u), onCuda(d), dgC, duC);
        close("silu dg", dg, dgC, 1e-6);
        close("silu du", du, duC, 1e-6);

        for (int[] s : new int[][] {{1, 1, 1, 1, 2}, {2, 17, 4, 2, 8}, {3, 64, 6, 3, 32}, {1, 130, 8, 1, 64}}) {
            AttentionShape a = new AttentionShape(s[0], s[1], s[2], s[3], s[4], (float) (1 / Math.sqrt(s[4])));
            int tokens = s[0] * s[1];
            Tensor qq = Rand.tensor(rng, Device.REFERENCE, tokens, s[2] * s[4]);
            Tensor kk = Rand.tensor(rng, Device.REFERENCE, tokens, s[3] * s[4]);
            Tensor vv = Rand.tensor(rng, Device.REFERENCE, tokens, s[3] * s[4]);
            Tensor dout = Rand.tensor(rng, Device.REFERENCE, tokens, s[2] * s[4]);
            Tensor out = Tensor.zeros(Device.REFERENCE, tokens, s[2] * s[4]), outC = onCuda(out);
            Tensor lse = Tensor.zeros(Device.REFERENCE, s[0] * s[2] * s[1]), lseC = onCuda(lse);
            REF.attentionForward(qq, kk, vv, a, out, lse);
            cuda.attentionForward(onCuda(qq), onCuda(kk), onCuda(vv), a, outC, lseC);
            close("attention out", out, outC, 1e-5);
            close("attention lse", lse, lseC, 1e-5);
            Tensor dq = qq.emptyLike(), dk = kk.emptyLike(), dv = vv.emptyLike();
            Tensor dqC = onCuda(dq), dkC = onCuda(dk), dvC = onCuda(dv);
            REF.attentionBackward(qq, kk, vv, out, lse, dout, a, dq, dk, dv);
            cuda.attentionBackward(onCuda(qq), onCuda(kk), onCuda(vv), outC, lseC, onCuda(dout), a, dqC, dkC, dvC);
            close("attention dq", dq, dqC, 1e-4);
            close("attention dk", dk, dkC, 1e-4);
            close("attention dv", dv, dvC, 1e-4);
        }

        // batch, new tokens, max length, heads, kv heads, head dim, window: one token and a chunk, GQA 1 and 4
        for (int[] s : new int[][] {
            {1, 1, 1, 1, 1, 2, 0}, {2, 1, 70, 4, 1, 16, 0}, {3, 5, 40, 2, 2, 33, 0}, {2, 3, 100, 8, 2, 64, 9}
        }) {
            AttentionShape a = new AttentionShape(s[0], s[1], s[3], s[4], s[5], (float) (1 / Math.sqrt(s[5])));
            Tensor qq = Rand.tensor(rng, Device.REFERENCE, s[0] * s[1], s[3] * s[5]);
            Tensor kc = Rand.tensor(rng, Device.REFERENCE, s[0] * s[2], s[4] * s[5]);
            Tensor vc = Rand.tensor(rng, Device.REFERENCE, s[0] * s[2], s[4] * s[5]);
            int[] past = new int[s[0]];
            for (int b = 0; b < s[0]; b++) {
                past[b] = (s[2] - s[1]) * (b + 1) / s[0];
            }
            Tensor pastR = Tensor.ofInts(Device.REFERENCE, past, s[0]);
            Tensor out = Tensor.zeros(Device.REFERENCE, s[0] * s[1], s[3] * s[5]), outC = onCuda(out);
            REF.cachedAttention(qq, kc, vc, pastR, a, s[6], out);
            cuda.cachedAttention(onCuda(qq), onCuda(kc), onCuda(vc), onCuda(pastR), a, s[6], outC);
            close("cached attention", out, outC, 1e-5);
        }

        Tensor logits = Rand.tensor(rng, Device.REFERENCE, 7, 3001);
        Tensor targets = Tensor.ofInts(Device.REFERENCE, new int[] {5, -100, 3000, 0, 17, -100, 2}, 7);
        Tensor loss = Tensor.zeros(Device.REFERENCE, 7), l2 = Tensor.zeros(Device.REFERENCE, 7);
        Tensor lossC = onCuda(loss), l2C = onCuda(l2);
        REF.crossEntropyForward(logits, targets, -100, loss, l2);
        cuda.crossEntropyForward(onCuda(logits), onCuda(targets), -100, lossC, l2C);
        close("xent", loss, lossC, 1e-5);
        Tensor dl = logits.emptyLike(), dlC = onCuda(dl);
        REF.crossEntropyBackward(logits, targets, l2, -100, 0.2f, dl);
        cuda.crossEntropyBackward(onCuda(logits), onCuda(targets), l2C, -100, 0.2f, dlC);
        close("xent grad", dl, dlC, 1e-5);
    }

    @Test
    void nf4AndAdamW() {
        SplittableRandom rng = new SplittableRandom(5);
        int n = 64 * 37 + 6;
        Tensor x = Rand.tensor(rng, Device.REFERENCE, n);
        Tensor packed = Tensor.empty(Device.REFERENCE, DType.U8, (n + 1) / 2), am = Tensor.zeros(Device.REFERENCE, 38);
        Tensor packedC = Tensor.empty(CUDA, DType.U8, (n + 1) / 2), amC = onCuda(am);
        REF.nf4Quantize(x, 64, packed, am);
        cuda.nf4Quantize(onCuda(x), 64, packedC, amC);
        close("nf4 absmax", am, amC, 0);
        Tensor out = Tensor.zeros(Device.REFERENCE, n - 10), outC = onCuda(out);
        REF.nf4Dequantize(packed, am, 10, 64, out);
        cuda.nf4Dequantize(packedC, amC, 10, 64, outC);
        close("nf4 dequantize", out, outC, 0);

        Tensor p = Rand.tensor(rng, Device.REFERENCE, 4097), g = Rand.tensor(rng, Device.REFERENCE, 4097);
        Tensor m = Rand.tensor(rng, Device.REFERENCE, 4097), v = Rand.tensor(rng, Device.REFERENCE, 4097);
        float[] vv = v.toFloatArray();
        for (int i = 0; i < vv.length; i++) {
            vv[i] = Math.abs(vv[i]);
        }
        v.copyFrom(vv);
        Tensor pC = onCuda(p), mC = onCuda(m), vC = onCuda(v);
        AdamWStep s = AdamWStep.of(1e-3, 0.9, 0.999, 1e-8, 0.01, 3);
        REF.adamwStep(p, g, m, v, s);
        cuda.adamwStep(pC, onCuda(g), mC, vC, s);
        close("adamw p", p, pC, 0);
        close("adamw m", m, mC, 0);
        close("adamw v", v, vC, 0);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void adaptedLayerForwardAndBackwardEqualTheReferences(AdapterMethod method) {
        SplittableRandom rng = new SplittableRandom(6);
        float[] w = Rand.floats(rng, 48 * 40, 0.5), x = Rand.floats(rng, 5 * 40, 1), dy = Rand.floats(rng, 5 * 48, 1);
        float[][] result = new float[2][];
        Device[] devices = {Device.REFERENCE, CUDA};
        List<float[]> grads = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            Device d = devices[k];
            AdaptedLinear layer = AdaptedLinear.attach(
                    new Linear("l", Tensor.of(Arena.ofAuto(), d, w, 48, 40)),
                    AdapterConfig.of(method, 4, 8),
                    Arena.ofAuto());
            SplittableRandom init = new SplittableRandom(7);
            for (Tensor t : layer.trainable()) {
                if (!t.name().endsWith("magnitude")) {
                    t.copyFrom(Rand.floats(init, (int) t.numel(), 0.3));
                }
            }
            Tensor xt = Tensor.of(d, x, 5, 40).requiresGrad(true);
            Tensor y = layer.forward(xt);
            Autograd.backward(y, Tensor.of(d, dy, 5, 48));
            result[k] = y.toFloatArray();
            grads.add(xt.grad().toFloatArray());
            for (Tensor t : layer.trainable()) {
                grads.add(t.grad().toFloatArray());
            }
        }
        assertArrayEquals(result[0], result[1], 1e-4f, "forward");
        int half = grads.size() / 2;
        for (int i = 0; i < half; i++) {
            assertArrayEquals(grads.get(i), grads.get(half + i), 1e-4f, "gradient " + i);
        }
    }

    @Test
    void aLlamaFineTuningStepEqualsTheReferences() {
        LlamaConfig cfg = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
        int[] ids = {1, 7, 200, 33, 9, 12, 5, 8};
        int[] targets = {7, 200, 33, 9, 12, 5, 8, -100};
        float[][] losses = new float[2][2];
        Device[] devices = {Device.REFERENCE, CUDA};
        for (int k = 0; k < 2; k++) {
            Device d = devices[k];
            LlamaModel model = LlamaModel.random(cfg, 3, d, Arena.ofAuto());
            var peft = PeftModel.inject(model, AdapterConfig.of(AdapterMethods.SBORA_FA, 4, 8), Arena.ofAuto());
            try (AdamW opt = new AdamW(peft.trainable(), AdamW.Config.lr(1e-2))) {
                for (int step = 0; step < 2; step++) {
                    Tensor loss = Losses.crossEntropy(
                            model.logits(Tensor.ofInts(d, ids, 1, 8)), Tensor.ofInts(d, targets, 8), -100);
                    losses[k][step] = loss.item();
                    Autograd.backward(loss);
                    opt.step();
                    opt.zeroGrad();
                }
            }
        }
        assertArrayEquals(losses[0], losses[1], 1e-4f);
    }

    /**
     * The fused ops as the cuda backend runs them (the Backend defaults: the residual add then the norm, rope over
     * its input, the cross-entropy backward over its logits) and the chunked loss, in a pre-training step: the loss
     * and every weight's gradient equal the reference's.
     */
    @Test
    void theChunkedLossAndTheFusedBlockOpsEqualTheReference() {
        LlamaConfig cfg = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, true);
        int[] ids = {1, 7, 200, 33, 9, 12, 5, 8, 40, 41};
        int[] targets = {7, 200, 33, -100, 12, 5, 8, 40, 41, -100};
        float[] losses = new float[2];
        List<List<float[]>> grads = List.of(new ArrayList<>(), new ArrayList<>());
        Device[] devices = {Device.REFERENCE, CUDA};
        for (int k = 0; k < 2; k++) {
            Device d = devices[k];
            LlamaModel model = LlamaModel.random(cfg, 4, d, Arena.ofAuto());
            model.setTrainable(true);
            Tensor loss = model.loss(Tensor.ofInts(d, ids, 2, 5), Tensor.ofInts(d, targets, 10), -100, 3);
            losses[k] = loss.item();
            Autograd.backward(loss);
            for (Tensor w : model.trainableWeights()) {
                grads.get(k).add(w.grad().toFloatArray());
            }
        }
        assertEquals(losses[0], losses[1], 1e-4f);
        for (int i = 0; i < grads.get(0).size(); i++) {
            assertArrayEquals(grads.get(0).get(i), grads.get(1).get(i), 1e-4f, "gradient " + i);
        }
    }
}
