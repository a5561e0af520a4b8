package io.sbora4j.backend.reference;

import io.sbora4j.backend.AdamWStep;
import io.sbora4j.backend.AttentionShape;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.KernelChecks;
import io.sbora4j.backend.Nf4Code;
import io.sbora4j.tensor.BFloat16;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain Java loops over host memory: the oracle every native kernel is tested against. Slow on purpose and written
 * to be obviously right: one element at a time, in index order, sums in double. Elementwise results use Java's
 * IEEE float arithmetic, which the C kernels reproduce bit for bit.
 */
public final class ReferenceBackend implements Backend {

    /** The backend of {@link Device#REFERENCE}. */
    public static final ReferenceBackend INSTANCE = new ReferenceBackend(Device.REFERENCE);

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfShort H = ValueLayout.JAVA_SHORT;

    private final Device device;

    ReferenceBackend(Device device) {
        this.device = device;
    }

    @Override
    public Device device() {
        return device;
    }

    // Elements as f32 whatever the tensor's floating type: bf16 widens exactly and rounds once on the way back.
    private static float get(Tensor t, long i) {
        return t.dtype() == DType.BF16
                ? BFloat16.toFloat(t.data().getAtIndex(H, i))
                : t.data().getAtIndex(F, i);
    }

    private static void set(Tensor t, long i, float v) {
        if (t.dtype() == DType.BF16) {
            t.data().setAtIndex(H, i, BFloat16.fromFloat(v));
        } else {
            t.data().setAtIndex(F, i, v);
        }
    }

    private static int index(Tensor idx, long j) {
        return idx.data().getAtIndex(I, j);
    }

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        KernelChecks.gemm(device, transA, transB, a, b, c);
        int m = c.dim(0), n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        int lda = a.dim(1), ldb = b.dim(1);
        boolean mixed = a.dtype() != b.dtype(); // then the f32 operand is rounded to bf16 (Backend's contract)
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? get(a, (long) p * lda + i) : get(a, (long) i * lda + p);
                    float bv = transB ? get(b, (long) j * ldb + p) : get(b, (long) p * ldb + j);
                    if (mixed) {
                        av = BFloat16.round(av);
                        bv = BFloat16.round(bv);
                    }
                    acc += (double) av * bv;
                }
                long ci = (long) i * n + j;
                double prior = beta == 0f ? 0 : (double) beta * get(c, ci);
                set(c, ci, (float) (alpha * acc + prior));
            }
        }
    }

    @Override
    public void gatherCols(Tensor x, Tensor idx, Tensor out) {
        KernelChecks.gatherCols(device, x, idx, out);
        long rows = x.shape().rows();
        int cols = x.shape().cols();
        long r = idx.numel();
        for (long t = 0; t < rows; t++) {
            for (long j = 0; j < r; j++) {
                set(out, t * r + j, get(x, t * cols + index(idx, j)));
            }
        }
    }

    @Override
    public void gatherRows(Tensor x, Tensor idx, Tensor out) {
        KernelChecks.gatherRows(device, x, idx, out);
        int cols = x.shape().cols();
        for (long j = 0; j < idx.numel(); j++) {
            long row = index(idx, j);
            for (long c = 0; c < cols; c++) {
                set(out, j * cols + c, get(x, row * cols + c));
            }
        }
    }

    @Override
    public void indexAddCols(Tensor dst, Tensor idx, Tensor src, float alpha) {
        KernelChecks.indexAddCols(device, dst, idx, src);
        long rows = dst.shape().rows();
        int cols = dst.shape().cols();
        long r = idx.numel();
        for (long t = 0; t < rows; t++) {
            for (long j = 0; j < r; j++) {
                long d = t * cols + index(idx, j);
                set(dst, d, get(dst, d) + alpha * get(src, t * r + j));
            }
        }
    }

    @Override
    public void indexAddRows(Tensor dst, Tensor idx, Tensor src, float alpha) {
        KernelChecks.indexAddRows(device, dst, idx, src);
        int cols = dst.shape().cols();
        for (long j = 0; j < idx.numel(); j++) {
            long row = index(idx, j);
            for (long c = 0; c < cols; c++) {
                long d = row * cols + c;
                set(dst, d, get(dst, d) + alpha * get(src, j * cols + c));
            }
        }
    }

    @Override
    public void fill(Tensor x, float value) {
        KernelChecks.fill(device, x);
        for (long i = 0; i < x.numel(); i++) {
            set(x, i, value);
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        KernelChecks.copy(device, src, dst);
        MemorySegment.copy(src.data(), 0, dst.data(), 0, src.bytes());
    }

    /** Plain loops over the fused contract: the oracle of every backend's route (fused or not). */
    @Override
    public void gatherGemm(Tensor x, Tensor idx, Tensor f, boolean transF, float alpha, Tensor c, Tensor xs) {
        KernelChecks.gatherGemm(device, x, idx, f, transF, c, xs);
        long rows = x.shape().rows();
        int cols = x.shape().cols(),
                r = (int) idx.numel(),
                n = c.shape().cols(),
                ldf = f.shape().cols();
        boolean round = x.dtype() != f.dtype(); // a bf16 product: the f32 factor is rounded (Backend's contract)
        for (long i = 0; i < rows; i++) {
            for (int k = 0; k < r; k++) {
                if (xs != null) {
                    set(xs, i * r + k, get(x, i * cols + index(idx, k)));
                }
            }
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int k = 0; k < r; k++) {
                    float fv = transF ? get(f, (long) j * ldf + k) : get(f, (long) k * ldf + j);
                    acc += (double) get(x, i * cols + index(idx, k)) * (round ? BFloat16.round(fv) : fv);
                }
                long ci = i * n + j;
                set(c, ci, get(c, ci) + (float) (alpha * acc));
            }
        }
    }

    @Override
    public void gemmScatter(Tensor a, Tensor f, boolean transF, Tensor idx, float alpha, Tensor c) {
        KernelChecks.gemmScatter(device, a, f, transF, idx, c);
        long rows = a.shape().rows();
        int kdim = a.shape().cols(),
                r = (int) idx.numel(),
                n = c.shape().cols(),
                ldf = f.shape().cols();
        boolean round = a.dtype() != f.dtype();
        for (long i = 0; i < rows; i++) {
            for (int j = 0; j < r; j++) {
                double acc = 0;
                for (int k = 0; k < kdim; k++) {
                    float fv = transF ? get(f, (long) j * ldf + k) : get(f, (long) k * ldf + j);
                    acc += (double) get(a, i * kdim + k) * (round ? BFloat16.round(fv) : fv);
                }
                long ci = i * n + index(idx, j);
                set(c, ci, get(c, ci) + (float) (alpha * acc));
            }
        }
    }

    @Override
    public void convert(Tensor src, Tensor dst) {
        KernelChecks.convert(device, src, dst);
        for (long i = 0; i < dst.numel(); i++) {
            set(dst, i, get(src, i));
        }
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "add", a, b, out);
        for (long i = 0; i < out.numel(); i++) {
            set(out, i, get(a, i) + get(b, i));
        }
    }

    @Override
    public void sub(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "sub", a, b, out);
        for (long i = 0; i < out.numel(); i++) {
            set(out, i, get(a, i) - get(b, i));
        }
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "mul", a, b, out);
        for (long i = 0; i < out.numel(); i++) {
            set(out, i, get(a, i) * get(b, i));
        }
    }

    @Override
    public void div(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "div", a, b, out);
        for (long i = 0; i < out.numel(); i++) {
            set(out, i, get(a, i) / get(b, i));
        }
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        KernelChecks.scale(device, x, out);
        for (long i = 0; i < out.numel(); i++) {
            set(out, i, get(x, i) * s);
        }
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        KernelChecks.axpy(device, x, y);
        for (long i = 0; i < y.numel(); i++) {
            set(y, i, get(y, i) + alpha * get(x, i));
        }
    }

    @Override
    public double sum(Tensor x) {
        KernelChecks.reduce(device, "sum", x);
        double s = 0;
        for (long i = 0; i < x.numel(); i++) {
            s += get(x, i);
        }
        return s;
    }

    @Override
    public double dot(Tensor a, Tensor b) {
        KernelChecks.dot(device, a, b);
        double s = 0;
        for (long i = 0; i < a.numel(); i++) {
            s += (double) get(a, i) * get(b, i);
        }
        return s;
    }

    @Override
    public long countNonFinite(Tensor x) {
        KernelChecks.reduce(device, "countNonFinite", x);
        long n = 0;
        for (long i = 0; i < x.numel(); i++) {
            if (!Float.isFinite(get(x, i))) {
                n++;
            }
        }
        return n;
    }

    @Override
    public void rowNorm(Tensor x, Tensor out) {
        KernelChecks.rowNorm(device, x, out);
        long rows = x.shape().rows();
        int cols = x.shape().cols();
        for (long i = 0; i < rows; i++) {
            double s = 0;
            for (long j = 0; j < cols; j++) {
                double v = get(x, i * cols + j);
                s += v * v;
            }
            set(out, i, (float) Math.sqrt(s));
        }
    }

    @Override
    public void scaleRows(Tensor x, Tensor s, Tensor out) {
        KernelChecks.scaleRowsOrCols(device, true, x, s, out);
        long rows = x.shape().rows();
        int cols = x.shape().cols();
        for (long i = 0; i < rows; i++) {
            for (long j = 0; j < cols; j++) {
                set(out, i * cols + j, get(x, i * cols + j) * get(s, i));
            }
        }
    }

    @Override
    public void scaleCols(Tensor x, Tensor s, Tensor out) {
        KernelChecks.scaleRowsOrCols(device, false, x, s, out);
        long rows = x.shape().rows();
        int cols = x.shape().cols();
        for (long i = 0; i < rows; i++) {
            for (long j = 0; j < cols; j++) {
                set(out, i * cols + j, get(x, i * cols + j) * get(s, j));
            }
        }
    }

    @Override
    public void colDot(Tensor a, Tensor b, Tensor out) {
        KernelChecks.colDot(device, a, b, out);
        long rows = a.shape().rows();
        int cols = a.shape().cols();
        for (long j = 0; j < cols; j++) {
            double s = 0;
            for (long i = 0; i < rows; i++) {
                s += (double) get(a, i * cols + j) * get(b, i * cols + j);
            }
            set(out, j, (float) s);
        }
    }

    @Override
    public void transpose(Tensor x, Tensor out) {
        KernelChecks.transpose(device, x, out);
        long rows = x.shape().rows();
        int cols = x.shape().cols();
        for (long i = 0; i < rows; i++) {
            for (long j = 0; j < cols; j++) {
                set(out, j * rows + i, get(x, i * cols + j));
            }
        }
    }

    // ---------------------------------------------------------------- transformer layers

    @Override
    public void rmsNormForward(Tensor x, Tensor w, float eps, Tensor y, Tensor rstd) {
        KernelChecks.rmsNormForward(device, x, w, eps, y, rstd);
        long rows = x.shape().rows();
        int n = x.shape().cols();
        for (long i = 0; i < rows; i++) {
            double ss = 0;
            for (long j = 0; j < n; j++) {
                double v = get(x, i * n + j);
                ss += v * v;
            }
            float r = (float) (1.0 / Math.sqrt(ss / n + eps));
            set(rstd, i, r);
            for (long j = 0; j < n; j++) {
                set(y, i * n + j, get(w, j) * (get(x, i * n + j) * r));
            }
        }
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor w, Tensor rstd, Tensor dy, Tensor dx, Tensor dw) {
        KernelChecks.rmsNormBackward(device, x, w, rstd, dy, dx, dw);
        long rows = x.shape().rows();
        int n = x.shape().cols();
        if (dx != null) {
            for (long i = 0; i < rows; i++) {
                float r = get(rstd, i);
                double dot = 0;
                for (long j = 0; j < n; j++) {
                    dot += (double) (get(dy, i * n + j) * get(w, j)) * (get(x, i * n + j) * r);
                }
                float mean = (float) (dot / n);
                for (long j = 0; j < n; j++) {
                    float xhat = get(x, i * n + j) * r;
                    set(dx, i * n + j, r * (get(dy, i * n + j) * get(w, j) - xhat * mean));
                }
            }
        }
        if (dw != null) {
            for (long j = 0; j < n; j++) {
                double acc = 0;
                for (long i = 0; i < rows; i++) {
                    acc += (double) get(dy, i * n + j) * (get(x, i * n + j) * get(rstd, i));
                }
                set(dw, j, (float) acc);
            }
        }
    }

    @Override
    public void rope(Tensor x, int heads, Tensor positions, Tensor cos, Tensor sin, float sign, Tensor out) {
        KernelChecks.rope(device, x, heads, positions, cos, sin, out);
        long rows = x.shape().rows();
        int width = x.shape().cols(), headDim = width / heads, h = headDim / 2;
        for (long i = 0; i < rows; i++) {
            long pos = index(positions, i);
            for (int hd = 0; hd < heads; hd++) {
                long base = i * width + (long) hd * headDim;
                for (int j = 0; j < h; j++) {
                    float c = get(cos, pos * h + j), sn = get(sin, pos * h + j) * sign;
                    float a = get(x, base + j), b = get(x, base + j + h);
                    set(out, base + j, a * c - b * sn);
                    set(out, base + j + h, b * c + a * sn);
                }
            }
        }
    }

    private static float sigmoid(float g) {
        return 1.0f / (1.0f + (float) Math.exp(-g));
    }

    @Override
    public void siluMulForward(Tensor g, Tensor u, Tensor out) {
        KernelChecks.siluMulForward(device, g, u, out);
        for (long i = 0; i < out.numel(); i++) {
            float gi = get(g, i);
            set(out, i, (gi / (1.0f + (float) Math.exp(-gi))) * get(u, i));
        }
    }

    @Override
    public void siluMulBackward(Tensor g, Tensor u, Tensor dout, Tensor dg, Tensor du) {
        KernelChecks.siluMulBackward(device, g, u, dout, dg, du);
        for (long i = 0; i < g.numel(); i++) {
            float gi = get(g, i), sig = sigmoid(gi);
            if (du != null) {
                set(du, i, get(dout, i) * (gi * sig));
            }
            if (dg != null) {
                set(dg, i, get(dout, i) * get(u, i) * (sig * (1.0f + gi * (1.0f - sig))));
            }
        }
    }

    @Override
    public void attentionForward(Tensor q, Tensor k, Tensor v, AttentionShape a, Tensor out, Tensor lse) {
        KernelChecks.attentionForward(device, q, k, v, a, out, lse);
        int hd = a.headDim(), qw = a.heads() * hd, kw = a.kvHeads() * hd, group = a.heads() / a.kvHeads();
        for (int b = 0; b < a.batch(); b++) {
            for (int h = 0; h < a.heads(); h++) {
                int g = h / group;
                for (int t = 0; t < a.seq(); t++) {
                    long qRow = (long) (b * a.seq() + t) * qw + (long) h * hd;
                    double[] scores = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        long kRow = (long) (b * a.seq() + u) * kw + (long) g * hd;
                        double s = 0;
                        for (int j = 0; j < hd; j++) {
                            s += (double) get(q, qRow + j) * get(k, kRow + j);
                        }
                        scores[u] = s * a.scale();
                        max = Math.max(max, scores[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u <= t; u++) {
                        sum += Math.exp(scores[u] - max);
                    }
                    for (int j = 0; j < hd; j++) {
                        double o = 0;
                        for (int u = 0; u <= t; u++) {
                            o += Math.exp(scores[u] - max)
                                    / sum
                                    * get(v, (long) (b * a.seq() + u) * kw + (long) g * hd + j);
                        }
                        set(out, qRow + j, (float) o);
                    }
                    set(lse, ((long) b * a.heads() + h) * a.seq() + t, (float) (max + Math.log(sum)));
                }
            }
        }
    }

    @Override
    public void cachedAttention(
            Tensor q, Tensor kCache, Tensor vCache, Tensor past, AttentionShape a, int window, Tensor out) {
        KernelChecks.cachedAttention(device, q, kCache, vCache, past, a, window, out);
        if (a.batch() == 0 || a.seq() == 0) {
            return;
        }
        int hd = a.headDim(), qw = a.heads() * hd, kw = a.kvHeads() * hd, group = a.heads() / a.kvHeads();
        long maxLen = kCache.shape().rows() / a.batch();
        for (int b = 0; b < a.batch(); b++) {
            int pastB = past.getInt(b);
            for (int t = 0; t < a.seq(); t++) {
                int pos = pastB + t;
                int lo = window > 0 ? Math.max(0, pos - window + 1) : 0;
                for (int h = 0; h < a.heads(); h++) {
                    long qRow = (long) (b * a.seq() + t) * qw + (long) h * hd;
                    long kBase = b * maxLen * kw + (long) (h / group) * hd;
                    double[] scores = new double[pos - lo + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = lo; u <= pos; u++) {
                        double s = 0;
                        for (int j = 0; j < hd; j++) {
                            s += (double) get(q, qRow + j) * get(kCache, kBase + u * kw + j);
                        }
                        scores[u - lo] = s * a.scale();
                        max = Math.max(max, scores[u - lo]);
                    }
                    double sum = 0;
                    for (double s : scores) {
                        sum += Math.exp(s - max);
                    }
                    for (int j = 0; j < hd; j++) {
                        double o = 0;
                        for (int u = lo; u <= pos; u++) {
                            o += Math.exp(scores[u - lo] - max) / sum * get(vCache, kBase + u * kw + j);
                        }
                        set(out, qRow + j, (float) o);
                    }
                }
            }
        }
    }

    @Override
    public void attentionBackward(
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor out,
            Tensor lse,
            Tensor dout,
            AttentionShape a,
            Tensor dq,
            Tensor dk,
            Tensor dv) {
        KernelChecks.attentionBackward(device, q, k, v, out, lse, dout, a, dq, dk, dv);
        int hd = a.headDim(), qw = a.heads() * hd, kw = a.kvHeads() * hd, group = a.heads() / a.kvHeads();
        fill(dq, 0f);
        fill(dk, 0f);
        fill(dv, 0f);
        for (int b = 0; b < a.batch(); b++) {
            for (int h = 0; h < a.heads(); h++) {
                int g = h / group;
                for (int t = 0; t < a.seq(); t++) {
                    long qRow = (long) (b * a.seq() + t) * qw + (long) h * hd;
                    double l = get(lse, ((long) b * a.heads() + h) * a.seq() + t);
                    double d = 0; // D_t = dout_t · out_t
                    for (int j = 0; j < hd; j++) {
                        d += (double) get(dout, qRow + j) * get(out, qRow + j);
                    }
                    for (int u = 0; u <= t; u++) {
                        long kRow = (long) (b * a.seq() + u) * kw + (long) g * hd;
                        double s = 0, dp = 0;
                        for (int j = 0; j < hd; j++) {
                            s += (double) get(q, qRow + j) * get(k, kRow + j);
                            dp += (double) get(dout, qRow + j) * get(v, kRow + j);
                        }
                        double p = Math.exp(s * a.scale() - l);
                        double ds = p * (dp - d) * a.scale();
                        for (int j = 0; j < hd; j++) {
                            set(dv, kRow + j, (float) (get(dv, kRow + j) + p * get(dout, qRow + j)));
                            set(dq, qRow + j, (float) (get(dq, qRow + j) + ds * get(k, kRow + j)));
                            set(dk, kRow + j, (float) (get(dk, kRow + j) + ds * get(q, qRow + j)));
                        }
                    }
                }
            }
        }
    }

    @Override
    public void crossEntropyForward(Tensor logits, Tensor targets, int ignoreIndex, Tensor loss, Tensor lse) {
        KernelChecks.crossEntropyForward(device, logits, targets, ignoreIndex, loss, lse);
        long rows = logits.shape().rows();
        int vocab = logits.shape().cols();
        for (long i = 0; i < rows; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (long j = 0; j < vocab; j++) {
                max = Math.max(max, get(logits, i * vocab + j));
            }
            double sum = 0;
            for (long j = 0; j < vocab; j++) {
                sum += Math.exp(get(logits, i * vocab + j) - max);
            }
            float l = (float) (max + Math.log(sum));
            set(lse, i, l);
            int t = index(targets, i);
            set(loss, i, t == ignoreIndex ? 0f : l - get(logits, i * vocab + t));
        }
    }

    @Override
    public void crossEntropyBackward(
            Tensor logits, Tensor targets, Tensor lse, int ignoreIndex, float scale, Tensor dlogits) {
        KernelChecks.crossEntropyBackward(device, logits, targets, lse, ignoreIndex, dlogits);
        long rows = logits.shape().rows();
        int vocab = logits.shape().cols();
        for (long i = 0; i < rows; i++) {
            int t = index(targets, i);
            for (long j = 0; j < vocab; j++) {
                float p = scale * (float) Math.exp(get(logits, i * vocab + j) - get(lse, i));
                set(dlogits, i * vocab + j, t == ignoreIndex ? 0f : p - (j == t ? scale : 0f));
            }
        }
    }

    @Override
    public void nf4Quantize(Tensor x, int block, Tensor packed, Tensor absmax) {
        KernelChecks.nf4Quantize(device, x, block, packed, absmax);
        long n = x.numel();
        for (long b = 0; b * block < n; b++) {
            long lo = b * block, hi = Math.min(n, lo + block);
            float m = 0;
            for (long i = lo; i < hi; i++) {
                m = Math.max(m, Math.abs(get(x, i)));
            }
            set(absmax, b, m);
            float inv = m > 0 ? 1f / m : 0f;
            for (long i = lo; i < hi; i += 2) {
                int high = Nf4Code.nearest(get(x, i) * inv);
                int low = i + 1 < hi ? Nf4Code.nearest(get(x, i + 1) * inv) : 7;
                packed.data().set(ValueLayout.JAVA_BYTE, i / 2, (byte) (high << 4 | low));
            }
        }
    }

    @Override
    public void nf4Dequantize(Tensor packed, Tensor absmax, long start, int block, Tensor out) {
        KernelChecks.nf4Dequantize(device, packed, absmax, start, block, out);
        for (long i = 0; i < out.numel(); i++) {
            long e = start + i;
            int b = packed.data().get(ValueLayout.JAVA_BYTE, e >> 1) & 0xff;
            int q = (e & 1) == 1 ? b & 0x0f : b >> 4;
            set(out, i, Nf4Code.value(q) * get(absmax, e / block));
        }
    }

    @Override
    public void adamwStep(Tensor p, Tensor g, Tensor m, Tensor v, AdamWStep s) {
        KernelChecks.adamwStep(device, p, g, m, v, s);
        float w1 = 1.0f - s.beta1(), w2 = 1.0f - s.beta2();
        for (long i = 0; i < p.numel(); i++) {
            float gi = get(g, i);
            float mi = get(m, i) + w1 * (gi - get(m, i));
            float vi = get(v, i) * s.beta2() + w2 * gi * gi;
            float denom = (float) Math.sqrt(vi) / s.biasCorrection2Sqrt() + s.eps();
            set(m, i, mi);
            set(v, i, vi);
            set(p, i, get(p, i) * s.decay() + (-s.stepSize()) * (mi / denom));
        }
    }

    @Override
    public String describe() {
        return "reference: plain Java loops (test oracle)";
    }
}
