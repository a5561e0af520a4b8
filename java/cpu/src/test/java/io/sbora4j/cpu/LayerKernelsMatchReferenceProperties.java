package io.sbora4j.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.backend.AttentionShape;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.ops.RopeTables;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The transformer-layer kernels of the cpu backend against the reference, over random and awkward shapes. */
class LayerKernelsMatchReferenceProperties {

    private static final Backend CPU = Backends.of(Device.CPU);
    private static final Backend REF = Backends.of(Device.REFERENCE);

    private static Tensor ref(Tensor t) {
        return t.to(Device.REFERENCE);
    }

    private static void close(String what, Tensor expected, Tensor actual, double tol) {
        float[] a = expected.toFloatArray(), b = actual.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            assertTrue(
                    Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(a[i])),
                    what + " at " + i + ": " + a[i] + " vs " + b[i]);
        }
    }

    @Property(tries = 40)
    void rmsNormForwardAndBackward(
            @ForAll @IntRange(min = 1, max = 70) int rows,
            @ForAll @IntRange(min = 1, max = 1100) int n,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor x = Rand.tensor(rng, Device.CPU, rows, n), w = Rand.tensor(rng, Device.CPU, n);
        Tensor dy = Rand.tensor(rng, Device.CPU, rows, n);
        Tensor y = x.emptyLike(), r = Tensor.zeros(Device.CPU, rows), dx = x.emptyLike(), dw = w.emptyLike();
        Tensor yr = ref(y), rr = ref(r), dxr = ref(dx), dwr = ref(dw);
        CPU.rmsNormForward(x, w, 1e-6f, y, r);
        REF.rmsNormForward(ref(x), ref(w), 1e-6f, yr, rr);
        close("y", yr, y, 1e-5);
        CPU.rmsNormBackward(x, w, r, dy, dx, dw);
        REF.rmsNormBackward(ref(x), ref(w), rr, ref(dy), dxr, dwr);
        close("dx", dxr, dx, 1e-4);
        close("dw", dwr, dw, 1e-4);
    }

    @Property(tries = 40)
    void addRmsNormForwardAndBackward(
            @ForAll @IntRange(min = 1, max = 70) int rows,
            @ForAll @IntRange(min = 1, max = 1100) int n,
            @ForAll long seed) {
        addRmsNormMatches(rows, n, seed);
    }

    /** One row, one column, sizes around the vector widths (4, 8, 16 floats) and a wide row. */
    @Example
    void addRmsNormAwkwardShapes() {
        int[][] shapes = {{1, 1}, {1, 7}, {1, 17}, {2, 15}, {3, 33}, {5, 4097}, {1, 8192}};
        for (int[] s : shapes) {
            addRmsNormMatches(s[0], s[1], s[0] * 31L + s[1]);
        }
    }

    /**
     * The fused residual-add and RMSNorm against the reference's two calls: the sum exactly, the norm and its
     * gradients within the tolerance of the plain RMSNorm's (a reduction per row), with and without a residual
     * gradient, and dw.
     */
    private static void addRmsNormMatches(int rows, int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor x = Rand.tensor(rng, Device.CPU, rows, n), delta = Rand.tensor(rng, Device.CPU, rows, n);
        Tensor w = Rand.tensor(rng, Device.CPU, n);
        Tensor dy = Rand.tensor(rng, Device.CPU, rows, n), dsum = Rand.tensor(rng, Device.CPU, rows, n);
        Tensor sum = x.emptyLike(), y = x.emptyLike(), r = Tensor.zeros(Device.CPU, rows);
        Tensor sumR = ref(sum), yR = ref(y), rR = ref(r);
        CPU.addRmsNormForward(x, delta, w, 1e-6f, sum, y, r);
        REF.addRmsNormForward(ref(x), ref(delta), ref(w), 1e-6f, sumR, yR, rR);
        close("sum", sumR, sum, 0);
        close("y", yR, y, 1e-5);
        close("rstd", rR, r, 1e-5);
        for (Tensor residual : new Tensor[] {dsum, null}) {
            Tensor dx = x.emptyLike(), dw = w.emptyLike(), dxR = ref(dx), dwR = ref(dw);
            CPU.addRmsNormBackward(sum, w, r, dy, residual, dx, dw);
            REF.addRmsNormBackward(sumR, ref(w), rR, ref(dy), residual == null ? null : ref(residual), dxR, dwR);
            close("dx" + (residual == null ? "" : " + dsum"), dxR, dx, 1e-4);
            close("dw", dwR, dw, 1e-4);
        }
        // dx alone, dw alone
        Tensor dx = x.emptyLike(), dxR = ref(dx), dw = w.emptyLike(), dwR = ref(dw);
        CPU.addRmsNormBackward(sum, w, r, dy, dsum, dx, null);
        REF.addRmsNormBackward(sumR, ref(w), rR, ref(dy), ref(dsum), dxR, null);
        close("dx only", dxR, dx, 1e-4);
        CPU.addRmsNormBackward(sum, w, r, dy, dsum, null, dw);
        REF.addRmsNormBackward(sumR, ref(w), rR, ref(dy), ref(dsum), null, dwR);
        close("dw only", dwR, dw, 1e-4);
    }

    /** Rope and the cross-entropy backward may write over their input: the same values as into a new tensor. */
    @Property(tries = 20)
    void ropeAndCrossEntropyBackwardInPlace(
            @ForAll @IntRange(min = 1, max = 40) int rows,
            @ForAll @IntRange(min = 1, max = 33) int halfDim,
            @ForAll @IntRange(min = 1, max = 3000) int vocab,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int hd = 2 * halfDim;
        RopeTables tc = new RopeTables(Arena.ofAuto(), Device.CPU, hd, 64, 10000);
        int[] p = new int[rows];
        for (int i = 0; i < rows; i++) {
            p[i] = rng.nextInt(64);
        }
        Tensor pos = Tensor.ofInts(Device.CPU, p, rows);
        Tensor x = Rand.tensor(rng, Device.CPU, rows, 2 * hd), out = x.emptyLike();
        CPU.rope(x, 2, pos, tc.cos(), tc.sin(), 1f, out);
        CPU.rope(x, 2, pos, tc.cos(), tc.sin(), 1f, x);
        close("rope in place", out, x, 0);

        Tensor logits = Tensor.of(Device.CPU, Rand.floats(rng, rows * vocab, 20), rows, vocab);
        int[] t = new int[rows];
        for (int i = 0; i < rows; i++) {
            t[i] = rng.nextInt(4) == 0 ? -100 : rng.nextInt(vocab);
        }
        Tensor targets = Tensor.ofInts(Device.CPU, t, rows);
        Tensor loss = Tensor.zeros(Device.CPU, rows), lse = Tensor.zeros(Device.CPU, rows);
        CPU.crossEntropyForward(logits, targets, -100, loss, lse);
        Tensor d = logits.emptyLike();
        CPU.crossEntropyBackward(logits, targets, lse, -100, 0.5f, d);
        CPU.crossEntropyBackward(logits, targets, lse, -100, 0.5f, logits);
        close("dlogits in place", d, logits, 0);
    }

    @Property(tries = 30)
    void ropeRotatesBothWays(
            @ForAll @IntRange(min = 1, max = 40) int rows,
            @ForAll @IntRange(min = 1, max = 4) int heads,
            @ForAll @IntRange(min = 1, max = 33) int halfDim,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int hd = 2 * halfDim;
        RopeTables tc = new RopeTables(Arena.ofAuto(), Device.CPU, hd, 64, 500000);
        RopeTables tr = new RopeTables(Arena.ofAuto(), Device.REFERENCE, hd, 64, 500000);
        Tensor x = Rand.tensor(rng, Device.CPU, rows, heads * hd);
        int[] p = new int[rows];
        for (int i = 0; i < rows; i++) {
            p[i] = rng.nextInt(64);
        }
        Tensor pos = Tensor.ofInts(Device.CPU, p, rows);
        Tensor out = x.emptyLike(), outR = ref(out), back = x.emptyLike();
        CPU.rope(x, heads, pos, tc.cos(), tc.sin(), 1f, out);
        REF.rope(ref(x), heads, ref(pos), tr.cos(), tr.sin(), 1f, outR);
        close("rope", outR, out, 0);
        CPU.rope(out, heads, pos, tc.cos(), tc.sin(), -1f, back);
        close("rope back", x, back, 1e-6);
    }

    @Property(tries = 30)
    void siluMul(@ForAll @IntRange(min = 1, max = 100_000) int n, @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor g = Tensor.of(Device.CPU, Rand.floats(rng, n, 8), n), u = Rand.tensor(rng, Device.CPU, n);
        Tensor d = Rand.tensor(rng, Device.CPU, n);
        Tensor o = g.emptyLike(), or = ref(o), dg = g.emptyLike(), du = g.emptyLike(), dgr = ref(dg), dur = ref(du);
        CPU.siluMulForward(g, u, o);
        REF.siluMulForward(ref(g), ref(u), or);
        close("silu", or, o, 1e-6);
        CPU.siluMulBackward(g, u, d, dg, du);
        REF.siluMulBackward(ref(g), ref(u), ref(d), dgr, dur);
        close("dg", dgr, dg, 1e-6);
        close("du", dur, du, 1e-6);
    }

    @Property(tries = 25)
    void attention(
            @ForAll @IntRange(min = 1, max = 3) int batch,
            @ForAll @IntRange(min = 1, max = 17) int seq,
            @ForAll @IntRange(min = 1, max = 3) int kvHeads,
            @ForAll @IntRange(min = 1, max = 3) int group,
            @ForAll @IntRange(min = 1, max = 9) int hd,
            @ForAll long seed) {
        attentionMatches(batch, seq, kvHeads, group, hd, seed);
    }

    /**
     * Shapes around the native kernels' tiles of 64 queries x 64 keys: one partial tile, a tile and one more row,
     * several tiles with a partial last one, and heads wider than the 128 columns the kernels transpose at once.
     */
    @Example
    void attentionAcrossTiles() {
        attentionMatches(1, 63, 1, 2, 64, 1);
        attentionMatches(2, 65, 2, 1, 16, 2);
        attentionMatches(1, 130, 2, 2, 9, 3);
        attentionMatches(1, 300, 1, 2, 64, 4);
        attentionMatches(1, 100, 1, 2, 130, 5);
        attentionMatches(1, 70, 1, 1, 257, 6);
    }

    private static void attentionMatches(int batch, int seq, int kvHeads, int group, int hd, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int heads = kvHeads * group, tokens = batch * seq;
        AttentionShape s = new AttentionShape(batch, seq, heads, kvHeads, hd, (float) (1 / Math.sqrt(hd)));
        Tensor q = Rand.tensor(rng, Device.CPU, tokens, heads * hd);
        Tensor k = Rand.tensor(rng, Device.CPU, tokens, kvHeads * hd),
                v = Rand.tensor(rng, Device.CPU, tokens, kvHeads * hd);
        Tensor dout = Rand.tensor(rng, Device.CPU, tokens, heads * hd);
        Tensor out = q.emptyLike(), lse = Tensor.zeros(Device.CPU, batch * heads * seq);
        Tensor outR = ref(out), lseR = ref(lse);
        CPU.attentionForward(q, k, v, s, out, lse);
        REF.attentionForward(ref(q), ref(k), ref(v), s, outR, lseR);
        close("out", outR, out, 1e-5);
        close("lse", lseR, lse, 1e-5);
        Tensor dq = q.emptyLike(), dk = k.emptyLike(), dv = v.emptyLike();
        Tensor dqR = ref(dq), dkR = ref(dk), dvR = ref(dv);
        CPU.attentionBackward(q, k, v, out, lse, dout, s, dq, dk, dv);
        REF.attentionBackward(ref(q), ref(k), ref(v), outR, lseR, ref(dout), s, dqR, dkR, dvR);
        close("dq", dqR, dq, 1e-4);
        close("dk", dkR, dk, 1e-4);
        close("dv", dvR, dv, 1e-4);
    }

    @Property(tries = 30)
    void crossEntropy(
            @ForAll @IntRange(min = 1, max = 40) int rows,
            @ForAll @IntRange(min = 1, max = 3000) int vocab,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor logits = Tensor.of(Device.CPU, Rand.floats(rng, rows * vocab, 20), rows, vocab);
        int[] t = new int[rows];
        for (int i = 0; i < rows; i++) {
            t[i] = rng.nextInt(4) == 0 ? -100 : rng.nextInt(vocab);
        }
        Tensor targets = Tensor.ofInts(Device.CPU, t, rows);
        Tensor loss = Tensor.zeros(Device.CPU, rows), lse = Tensor.zeros(Device.CPU, rows);
        Tensor lossR = ref(loss), lseR = ref(lse);
        CPU.crossEntropyForward(logits, targets, -100, loss, lse);
        REF.crossEntropyForward(ref(logits), ref(targets), -100, lossR, lseR);
        close("loss", lossR, loss, 1e-5);
        Tensor d = logits.emptyLike(), dR = ref(d);
        CPU.crossEntropyBackward(logits, targets, lse, -100, 0.25f, d);
        REF.crossEntropyBackward(ref(logits), ref(targets), lseR, -100, 0.25f, dR);
        close("dlogits", dR, d, 1e-5);
        // forward and backward in one pass (vectorised exponentials): the two kernels' results within a few ulp,
        // into a new tensor or over the logits
        Tensor loss2 = loss.emptyLike(), lse2 = lse.emptyLike(), d2 = d.emptyLike();
        CPU.crossEntropyForwardBackward(logits, targets, -100, 0.25f, loss2, lse2, d2);
        close("fused loss", loss, loss2, 1e-5);
        close("fused lse", lse, lse2, 1e-6);
        close("fused dlogits", d, d2, 1e-6);
        Tensor lossR2 = ref(loss2), lseR2 = ref(lse2), logitsR = ref(logits);
        REF.crossEntropyForwardBackward(logitsR, ref(targets), -100, 0.25f, lossR2, lseR2, logitsR);
        CPU.crossEntropyForwardBackward(logits, targets, -100, 0.25f, loss2, lse2, logits);
        close("fused dlogits in place", d2, logits, 0);
        close("fused loss against the reference", lossR, loss2, 1e-5);
        close("fused dlogits against the reference", dR, logitsR, 1e-5);
        close("fused in place against the reference", logitsR, logits, 1e-5);
    }

    @Property(tries = 20)
    void indexAddRowsAccumulatesRepeatedIndices(
            @ForAll @IntRange(min = 1, max = 20) int rows,
            @ForAll @IntRange(min = 1, max = 3000) int cols,
            @ForAll @IntRange(min = 1, max = 60) int r,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] idx = new int[r];
        for (int j = 0; j < r; j++) {
            idx[j] = rng.nextInt(rows);
        }
        Tensor dst = Rand.tensor(rng, Device.CPU, rows, cols), src = Rand.tensor(rng, Device.CPU, r, cols);
        Tensor dstR = ref(dst);
        CPU.indexAddRows(dst, Tensor.ofInts(Device.CPU, idx, r), src, 1f);
        REF.indexAddRows(dstR, Tensor.ofInts(Device.REFERENCE, idx, r), ref(src), 1f);
        close("indexAddRows with repeats", dstR, dst, 0);
    }
}
