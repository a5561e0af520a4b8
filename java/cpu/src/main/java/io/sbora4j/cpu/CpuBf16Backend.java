package io.sbora4j.cpu;

import static io.sbora4j.cpu.CpuBackend.check;

import io.sbora4j.backend.AdamWStep;
import io.sbora4j.backend.AttentionShape;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Bf16Fallback;
import io.sbora4j.backend.KernelChecks;
import io.sbora4j.backend.UnfusedSboraGemms;
import io.sbora4j.cpu.ffi.sbora_native_h;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The cpu backend's bf16 half: the calls of the {@link Backend} contract that involve a bf16 tensor, which the
 * {@link Bf16Fallback} that {@link CpuBackendProvider} builds routes here (every other call goes to
 * {@link CpuBackend}). Element-wise operations, conversions, reductions, gathers and index-adds run on the typed C
 * kernels of {@code sbora_native.h} ("bf16"), bit for bit what the reference backend computes.
 *
 * <p>GEMMs keep bf16 operands in bf16: they run as {@code sb_sgemm} (or the fused SBoRA kernels) on bounded f32
 * panels, each a block of rows or columns of an operand widened from bf16 (exactly) or rounded to bf16 values (the
 * f32 operand beside a bf16 one, Backend's contract), so a product of two panels is a bf16 x bf16 product with f32
 * accumulation; a bf16 c receives the f32 result rounded once. A panel holds at most {@link #PANEL_FLOATS} floats,
 * so a bf16 weight is never widened whole: memory stays at 2 bytes per weight. Each call takes its panels from a
 * {@link MemoryScope} of its own, which gives them back to the pool when it returns.
 *
 * <p>The f32-only methods of the contract never reach this class through the router; they go to the f32 kernels.
 */
final class CpuBf16Backend implements Backend {

    /**
     * Floats of one panel (8 MiB, as {@code QuantizedLinear}'s NF4 tiles): small beside a weight, and large enough
     * that the usual shapes widen each operand once per call (a 2048-wide weight in two panels, the activations of
     * 1024 tokens in one); smaller panels widen the inner operand once per block of the outer one.
     */
    static final long PANEL_FLOATS = 2L << 20;

    private final CpuBackend f32;
    private final long panelFloats;

    CpuBf16Backend(CpuBackend f32) {
        this(f32, PANEL_FLOATS);
    }

    /** With panels of {@code panelFloats} floats (tests take small ones, to run the GEMMs over many blocks). */
    CpuBf16Backend(CpuBackend f32, long panelFloats) {
        this.f32 = f32;
        this.panelFloats = panelFloats;
    }

    @Override
    public Device device() {
        return f32.device();
    }

    private static MemorySegment seg(Tensor t) {
        return t.data();
    }

    private static int type(Tensor t) {
        return switch (t.dtype()) {
            case F32 -> sbora_native_h.SB_F32;
            case BF16 -> sbora_native_h.SB_BF16;
            default -> throw new IllegalArgumentException("the cpu kernels take f32 or bf16, not " + t.describe());
        };
    }

    /** Elements [offset, ...) of t's memory. */
    private static MemorySegment at(Tensor t, long offset) {
        return t.data().asSlice(offset * t.dtype().bytes());
    }

    private static MemorySegment floats(long n) {
        return Tensor.empty(Device.CPU, DType.F32, Math.toIntExact(Math.max(1, n)))
                .data();
    }

    private static void sameType(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t.dtype() != ts[0].dtype()) {
                throw new IllegalArgumentException(
                        op + " takes tensors of one type, got " + ts[0].describe() + " and " + t.describe());
            }
        }
    }

    // ---------------------------------------------------------------- GEMM

    /** A block of an operand as cblas_sgemm reads it: the f32 values and the distance between their rows. */
    private record Panel(MemorySegment data, int ld) {}

    /**
     * An operand of a bf16 GEMM, cut into blocks along its free dimension (rows of op(a), columns of op(b)) and
     * along k: each block widened into a buffer (the last one widened is kept), or read in place when the product
     * is f32 x f32 (a bf16 c only).
     */
    private static final class Operand {
        final Tensor t;
        final boolean alongColumns; // the free dimension runs along t's columns (op = transpose for a; none for b)
        final boolean widen;
        final long bufFloats;
        MemorySegment buf;
        int loadedLo = -1, loadedK = -1;

        Operand(Tensor t, boolean alongColumns, boolean widen, long bufFloats) {
            this.t = t;
            this.alongColumns = alongColumns;
            this.widen = widen;
            this.bufFloats = bufFloats;
        }

        /** Block [lo, lo + len) of the free dimension times [k0, k0 + kl) of k. */
        Panel panel(int lo, int len, int k0, int kl) {
            int ld = t.dim(1);
            long offset = alongColumns ? (long) k0 * ld + lo : (long) lo * ld + k0;
            if (!widen) {
                return new Panel(at(t, offset), ld);
            }
            int rows = alongColumns ? kl : len, cols = alongColumns ? len : kl;
            if (buf == null) {
                buf = floats(bufFloats);
            }
            if (loadedLo != lo || loadedK != k0) {
                check(sbora_native_h.sb_bf16_panel(at(t, offset), type(t), rows, cols, ld, buf, cols), "sb_bf16_panel");
                loadedLo = lo;
                loadedK = k0;
            }
            return new Panel(buf, cols);
        }
    }

    /** Rows (or columns) per block for a budget of {@code fit}: all, or a multiple of 16 (at least 16). */
    private static int blockOf(int size, long fit) {
        if (fit >= size) {
            return size;
        }
        return (int) Math.max(16, fit / 16 * 16);
    }

    /** Blocks of at most {@code max} covering {@code size} in as few equal parts as may be, rounded up to 16. */
    private static int evenBlock(int size, int max) {
        if (size <= max) {
            return size;
        }
        int parts = (size + max - 1) / max;
        return ((size + parts - 1) / parts + 15) / 16 * 16;
    }

    /**
     * {@code c = alpha·op(a)·op(b) + beta·c} with a bf16 operand or a bf16 c: blocks of op(a)'s rows times blocks
     * of op(b)'s columns (times blocks of k where k is long), each product one {@code cblas_sgemm} on f32 panels
     * (or the thin kernel for {@code aᵀ·b} with few columns, as in {@link CpuBackend#gemm}), straight into an f32 c
     * or into an f32 tile of c that is stored into a bf16 c once its sum is complete. A panel holds at most
     * {@code panelFloats}: k is cut into blocks of at most {@code panelFloats / 1024}, so that panels and tile stay
     * about 1024 wide and every call a large one. Where k is one block, the loop over the operand with more blocks
     * runs inside, so that the other one is widened once (the inner one once per outer block, once in all when it
     * fits one panel).
     */
    @Override
    @SuppressWarnings("try")
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        KernelChecks.gemm(device(), transA, transB, a, b, c);
        f32.enter();
        int m = c.dim(0), n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) { // c = beta·c
            if (beta == 0f) {
                fill(c, 0f);
            } else {
                scale(c, beta, c);
            }
            return;
        }
        boolean bf16Product = a.dtype() == DType.BF16 || b.dtype() == DType.BF16;
        boolean cBf16 = c.dtype() == DType.BF16;
        // c = alpha·aᵀ·b with few columns: the thin kernel over all of k (it has no beta to add blocks of k with).
        boolean thin = transA && !transB && beta == 0f && n <= CpuBackend.SMALL_N;
        int kb = !bf16Product || thin ? k : evenBlock(k, (int) Math.max(16, panelFloats / 1024));
        int mb = bf16Product ? blockOf(m, panelFloats / kb) : m;
        int nb = bf16Product ? blockOf(n, panelFloats / kb) : n;
        if (cBf16 && (long) mb * nb > panelFloats) { // the f32 tile of c has the same budget
            nb = blockOf(nb, panelFloats / mb);
            if ((long) mb * nb > panelFloats) {
                mb = blockOf(mb, panelFloats / nb);
            }
        }
        try (MemoryScope scope = MemoryScope.open()) {
            Operand pa = new Operand(a, transA, bf16Product, (long) mb * kb);
            Operand pb = new Operand(b, !transB, bf16Product, (long) nb * kb);
            MemorySegment tile = cBf16 ? floats((long) mb * nb) : null;
            int blocksM = (m + mb - 1) / mb, blocksN = (n + nb - 1) / nb;
            // Elements widened with k in one block: the outer operand once, the inner one once per outer block.
            boolean rowsOuter =
                    kb < k || (long) n * (blocksN > 1 ? blocksM : 1) + m <= (long) m * (blocksM > 1 ? blocksN : 1) + n;
            int outer = rowsOuter ? m : n, inner = rowsOuter ? n : m;
            int ob = rowsOuter ? mb : nb, ib = rowsOuter ? nb : mb;
            for (int o0 = 0; o0 < outer; o0 += ob) {
                for (int i0 = 0; i0 < inner; i0 += ib) {
                    int r0 = rowsOuter ? o0 : i0, c0 = rowsOuter ? i0 : o0;
                    int mr = Math.min(mb, m - r0), nr = Math.min(nb, n - c0);
                    MemorySegment out = cBf16 ? tile : at(c, (long) r0 * n + c0);
                    int ldo = cBf16 ? nr : n;
                    for (int k0 = 0; k0 < k; k0 += kb) {
                        int kl = Math.min(kb, k - k0);
                        Panel ap = pa.panel(r0, mr, k0, kl), bp = pb.panel(c0, nr, k0, kl);
                        float b0 = k0 > 0 ? 1f : cBf16 ? 0f : beta;
                        if (thin) {
                            check(
                                    sbora_native_h.sb_gemm_tn_small(
                                            ap.data(), kl, mr, ap.ld(), bp.data(), nr, bp.ld(), alpha, out, ldo),
                                    "sb_gemm_tn_small");
                        } else {
                            check(
                                    sbora_native_h.sb_sgemm(
                                            transA ? 1 : 0,
                                            transB ? 1 : 0,
                                            mr,
                                            nr,
                                            kl,
                                            alpha,
                                            ap.data(),
                                            Math.max(1, ap.ld()),
                                            bp.data(),
                                            Math.max(1, bp.ld()),
                                            b0,
                                            out,
                                            Math.max(1, ldo)),
                                    "sb_sgemm");
                        }
                    }
                    if (cBf16) {
                        check(
                                sbora_native_h.sb_store_t(
                                        tile, mr, nr, nr, beta, at(c, (long) r0 * n + c0), sbora_native_h.SB_BF16, n),
                                "sb_store_t");
                    }
                }
            }
        }
    }

    /** Indices 0..r-1: the fused f32 kernels read a block of already gathered columns through them. */
    private static MemorySegment iota(long r) {
        int[] v = new int[Math.toIntExact(r)];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return Tensor.ofInts(Device.CPU, v, Math.max(1, v.length)).data();
    }

    /** f as the product reads it: rounded to bf16 values beside a bf16 operand, else f itself. */
    private static MemorySegment factor(Tensor f, boolean round) {
        if (!round) {
            return seg(f);
        }
        MemorySegment fr = floats(f.numel());
        check(
                sbora_native_h.sb_bf16_panel(seg(f), type(f), f.dim(0), f.dim(1), f.dim(1), fr, f.dim(1)),
                "sb_bf16_panel");
        return fr;
    }

    /**
     * {@code c += alpha·x[:, idx]·op(f)} on a fused kernel where {@link CpuBackend} would fuse the f32 form, else
     * as a gather and the bf16 GEMM ({@link UnfusedSboraGemms}). x, c and xs in bf16 (the LLaMA path) take
     * {@code sb_gather_gemm_t}, which reads and writes c once in bf16; other mixes of types run the f32 kernel on
     * blocks of rows: the r columns gathered in x's type (into xs when asked for) and widened, c's rows widened and
     * stored back once when c is bf16.
     */
    @Override
    @SuppressWarnings("try")
    public void gatherGemm(Tensor x, Tensor idx, Tensor f, boolean transF, float alpha, Tensor c, Tensor xs) {
        KernelChecks.gatherGemm(device(), x, idx, f, transF, c, xs);
        f32.enter();
        long m = x.shape().rows(),
                cols = x.shape().cols(),
                r = idx.numel(),
                n = c.shape().cols();
        if (!f32.fuseGather(m, r, transF)) {
            UnfusedSboraGemms.gatherGemm(this, x, idx, f, transF, alpha, c, xs);
            return;
        }
        if (m == 0 || r == 0) {
            return;
        }
        boolean xBf16 = x.dtype() == DType.BF16, cBf16 = c.dtype() == DType.BF16;
        try (MemoryScope scope = MemoryScope.open()) {
            if (xBf16 && cBf16 && (xs == null || xs.dtype() == DType.BF16)) {
                check(
                        sbora_native_h.sb_gather_gemm_t(
                                sbora_native_h.SB_BF16,
                                seg(x),
                                m,
                                cols,
                                seg(idx),
                                r,
                                seg(f),
                                f.dim(1),
                                transF ? 1 : 0,
                                n,
                                alpha,
                                seg(c),
                                n,
                                xs == null ? MemorySegment.NULL : seg(xs),
                                r,
                                floats(r * ((n + 31) / 32 * 32))),
                        "sb_gather_gemm_t");
                return;
            }
            MemorySegment fr = factor(f, xBf16), ids = iota(r);
            int mb = blockOf(Math.toIntExact(m), panelFloats / (n + r));
            MemorySegment g = xs == null ? xBf16 ? shorts((long) mb * r) : floats((long) mb * r) : null;
            MemorySegment g32 = xBf16 ? floats((long) mb * r) : null;
            MemorySegment c32 = cBf16 ? floats((long) mb * n) : null;
            for (long i0 = 0; i0 < m; i0 += mb) {
                long mr = Math.min(mb, m - i0);
                MemorySegment gi = xs == null ? g : at(xs, i0 * r);
                check(
                        sbora_native_h.sb_gather_cols_t(at(x, i0 * cols), type(x), mr, cols, cols, seg(idx), r, gi, r),
                        "sb_gather_cols_t");
                MemorySegment gf = gi;
                if (xBf16) {
                    check(sbora_native_h.sb_bf16_panel(gi, sbora_native_h.SB_BF16, mr, r, r, g32, r), "sb_bf16_panel");
                    gf = g32;
                }
                MemorySegment cb = at(c, i0 * n), cf = cb;
                if (cBf16) {
                    check(
                            sbora_native_h.sb_convert(cb, sbora_native_h.SB_BF16, c32, sbora_native_h.SB_F32, mr * n),
                            "sb_convert");
                    cf = c32;
                }
                check(
                        sbora_native_h.sb_gather_gemm(
                                gf,
                                mr,
                                r,
                                ids,
                                r,
                                fr,
                                f.dim(1),
                                transF ? 1 : 0,
                                n,
                                alpha,
                                cf,
                                n,
                                MemorySegment.NULL,
                                r),
                        "sb_gather_gemm");
                if (cBf16) {
                    check(
                            sbora_native_h.sb_convert(c32, sbora_native_h.SB_F32, cb, sbora_native_h.SB_BF16, mr * n),
                            "sb_convert");
                }
            }
        }
    }

    private static MemorySegment shorts(long n) {
        return Tensor.empty(Device.CPU, DType.BF16, Math.toIntExact(Math.max(1, n)))
                .data();
    }

    /**
     * {@code c[:, idx] += alpha·a·op(f)} on a fused kernel where {@link CpuBackend} would fuse the f32 form, else as
     * the bf16 GEMM into an f32 temporary and an index-add ({@link UnfusedSboraGemms}). a and c in bf16 take
     * {@code sb_gemm_scatter_t}; other mixes run the f32 kernel on blocks of rows of a widened, their r sums in an
     * f32 block, added into c's columns idx and rounded once.
     */
    @Override
    @SuppressWarnings("try")
    public void gemmScatter(Tensor a, Tensor f, boolean transF, Tensor idx, float alpha, Tensor c) {
        KernelChecks.gemmScatter(device(), a, f, transF, idx, c);
        f32.enter();
        long m = a.shape().rows(),
                kdim = a.shape().cols(),
                r = idx.numel(),
                cols = c.shape().cols();
        if (!f32.fuseScatter(m, transF)) {
            UnfusedSboraGemms.gemmScatter(this, a, f, transF, idx, alpha, c);
            return;
        }
        if (m == 0 || r == 0) {
            return;
        }
        boolean aBf16 = a.dtype() == DType.BF16;
        try (MemoryScope scope = MemoryScope.open()) {
            if (aBf16 && c.dtype() == DType.BF16) {
                check(
                        sbora_native_h.sb_gemm_scatter_t(
                                sbora_native_h.SB_BF16,
                                seg(a),
                                m,
                                kdim,
                                kdim,
                                seg(f),
                                f.dim(1),
                                transF ? 1 : 0,
                                seg(idx),
                                r,
                                alpha,
                                seg(c),
                                cols,
                                floats(kdim * ((r + 15) / 16 * 16))),
                        "sb_gemm_scatter_t");
                return;
            }
            MemorySegment fr = factor(f, aBf16), ids = iota(r);
            int mb = blockOf(Math.toIntExact(m), panelFloats / (kdim + r));
            MemorySegment a32 = aBf16 ? floats((long) mb * kdim) : null, t = floats((long) mb * r);
            for (long i0 = 0; i0 < m; i0 += mb) {
                long mr = Math.min(mb, m - i0);
                MemorySegment ab = at(a, i0 * kdim);
                if (aBf16) {
                    check(
                            sbora_native_h.sb_bf16_panel(ab, sbora_native_h.SB_BF16, mr, kdim, kdim, a32, kdim),
                            "sb_bf16_panel");
                    ab = a32;
                }
                check(sbora_native_h.sb_fill(t, mr * r, 0f), "sb_fill");
                check(
                        sbora_native_h.sb_gemm_scatter(
                                ab, mr, kdim, kdim, fr, f.dim(1), transF ? 1 : 0, ids, r, 1f, t, r),
                        "sb_gemm_scatter");
                check(
                        sbora_native_h.sb_index_add_cols_t(
                                at(c, i0 * cols),
                                type(c),
                                mr,
                                cols,
                                cols,
                                seg(idx),
                                r,
                                t,
                                sbora_native_h.SB_F32,
                                r,
                                alpha),
                        "sb_index_add_cols_t");
            }
        }
    }

    // ---------------------------------------------------------------- gathers, index-adds, element-wise

    @Override
    public void gatherCols(Tensor x, Tensor idx, Tensor out) {
        KernelChecks.gatherCols(device(), x, idx, out);
        f32.enter();
        sameType("gatherCols", x, out);
        long rows = x.shape().rows(), cols = x.shape().cols(), r = idx.numel();
        check(
                sbora_native_h.sb_gather_cols_t(seg(x), type(x), rows, cols, cols, seg(idx), r, seg(out), r),
                "sb_gather_cols_t");
    }

    @Override
    public void gatherRows(Tensor x, Tensor idx, Tensor out) {
        KernelChecks.gatherRows(device(), x, idx, out);
        f32.enter();
        sameType("gatherRows", x, out);
        long rows = x.shape().rows(), cols = x.shape().cols(), r = idx.numel();
        check(
                sbora_native_h.sb_gather_rows_t(seg(x), type(x), rows, cols, cols, seg(idx), r, seg(out), cols),
                "sb_gather_rows_t");
    }

    @Override
    public void indexAddCols(Tensor dst, Tensor idx, Tensor src, float alpha) {
        KernelChecks.indexAddCols(device(), dst, idx, src);
        f32.enter();
        long rows = dst.shape().rows(), cols = dst.shape().cols(), r = idx.numel();
        check(
                sbora_native_h.sb_index_add_cols_t(
                        seg(dst), type(dst), rows, cols, cols, seg(idx), r, seg(src), type(src), r, alpha),
                "sb_index_add_cols_t");
    }

    @Override
    public void indexAddRows(Tensor dst, Tensor idx, Tensor src, float alpha) {
        KernelChecks.indexAddRows(device(), dst, idx, src);
        f32.enter();
        long rows = dst.shape().rows(), cols = dst.shape().cols(), r = idx.numel();
        check(
                sbora_native_h.sb_index_add_rows_t(
                        seg(dst), type(dst), rows, cols, cols, seg(idx), r, seg(src), type(src), cols, alpha),
                "sb_index_add_rows_t");
    }

    @Override
    public void fill(Tensor x, float value) {
        KernelChecks.fill(device(), x);
        f32.enter();
        check(sbora_native_h.sb_fill_t(seg(x), type(x), x.numel(), value), "sb_fill_t");
    }

    @Override
    public void convert(Tensor src, Tensor dst) {
        KernelChecks.convert(device(), src, dst);
        f32.enter();
        check(sbora_native_h.sb_convert(seg(src), type(src), seg(dst), type(dst), dst.numel()), "sb_convert");
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        KernelChecks.copy(device(), src, dst);
        MemorySegment.copy(src.data(), 0, dst.data(), 0, src.bytes());
    }

    private static void binary(int op, Tensor a, Tensor b, Tensor out) {
        sameType("an element-wise operation", a, b, out);
        check(sbora_native_h.sb_binary_t(op, seg(a), seg(b), type(out), out.numel(), seg(out)), "sb_binary_t");
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device(), "add", a, b, out);
        f32.enter();
        binary(sbora_native_h.SB_OP_ADD, a, b, out);
    }

    @Override
    public void sub(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device(), "sub", a, b, out);
        f32.enter();
        binary(sbora_native_h.SB_OP_SUB, a, b, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device(), "mul", a, b, out);
        f32.enter();
        binary(sbora_native_h.SB_OP_MUL, a, b, out);
    }

    @Override
    public void div(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device(), "div", a, b, out);
        f32.enter();
        binary(sbora_native_h.SB_OP_DIV, a, b, out);
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        KernelChecks.scale(device(), x, out);
        f32.enter();
        sameType("scale", x, out);
        check(sbora_native_h.sb_scale_t(seg(x), type(x), out.numel(), s, seg(out)), "sb_scale_t");
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        KernelChecks.axpy(device(), x, y);
        f32.enter();
        check(sbora_native_h.sb_axpy_t(y.numel(), alpha, seg(x), type(x), seg(y), type(y)), "sb_axpy_t");
    }

    @Override
    public double sum(Tensor x) {
        KernelChecks.reduce(device(), "sum", x);
        f32.enter();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_DOUBLE);
            check(sbora_native_h.sb_sum_t(seg(x), type(x), x.numel(), out), "sb_sum_t");
            return out.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }

    @Override
    public long countNonFinite(Tensor x) {
        KernelChecks.reduce(device(), "countNonFinite", x);
        f32.enter();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_LONG);
            check(sbora_native_h.sb_count_nonfinite_t(seg(x), type(x), x.numel(), out), "sb_count_nonfinite_t");
            return out.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    // ---------------------------------------------------------------- f32 only: the f32 kernels

    @Override
    public double dot(Tensor a, Tensor b) {
        return f32.dot(a, b);
    }

    @Override
    public void rowNorm(Tensor x, Tensor out) {
        f32.rowNorm(x, out);
    }

    @Override
    public void scaleRows(Tensor x, Tensor s, Tensor out) {
        f32.scaleRows(x, s, out);
    }

    @Override
    public void scaleCols(Tensor x, Tensor s, Tensor out) {
        f32.scaleCols(x, s, out);
    }

    @Override
    public void colDot(Tensor a, Tensor b, Tensor out) {
        f32.colDot(a, b, out);
    }

    @Override
    public void transpose(Tensor x, Tensor out) {
        f32.transpose(x, out);
    }

    @Override
    public void rmsNormForward(Tensor x, Tensor w, float eps, Tensor y, Tensor rstd) {
        f32.rmsNormForward(x, w, eps, y, rstd);
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor w, Tensor rstd, Tensor dy, Tensor dx, Tensor dw) {
        f32.rmsNormBackward(x, w, rstd, dy, dx, dw);
    }

    @Override
    public void rope(Tensor x, int heads, Tensor positions, Tensor cos, Tensor sin, float sign, Tensor out) {
        f32.rope(x, heads, positions, cos, sin, sign, out);
    }

    @Override
    public void siluMulForward(Tensor g, Tensor u, Tensor out) {
        f32.siluMulForward(g, u, out);
    }

    @Override
    public void siluMulBackward(Tensor g, Tensor u, Tensor dout, Tensor dg, Tensor du) {
        f32.siluMulBackward(g, u, dout, dg, du);
    }

    @Override
    public void attentionForward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor lse) {
        f32.attentionForward(q, k, v, shape, out, lse);
    }

    @Override
    public void cachedAttention(
            Tensor q, Tensor kCache, Tensor vCache, Tensor past, AttentionShape shape, int window, Tensor out) {
        f32.cachedAttention(q, kCache, vCache, past, shape, window, out);
    }

    @Override
    public void attentionBackward(
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor out,
            Tensor lse,
            Tensor dout,
            AttentionShape shape,
            Tensor dq,
            Tensor dk,
            Tensor dv) {
        f32.attentionBackward(q, k, v, out, lse, dout, shape, dq, dk, dv);
    }

    @Override
    public void crossEntropyForward(Tensor logits, Tensor targets, int ignoreIndex, Tensor loss, Tensor lse) {
        f32.crossEntropyForward(logits, targets, ignoreIndex, loss, lse);
    }

    @Override
    public void crossEntropyBackward(
            Tensor logits, Tensor targets, Tensor lse, int ignoreIndex, float scale, Tensor dlogits) {
        f32.crossEntropyBackward(logits, targets, lse, ignoreIndex, scale, dlogits);
    }

    @Override
    public void nf4Quantize(Tensor x, int block, Tensor packed, Tensor absmax) {
        f32.nf4Quantize(x, block, packed, absmax);
    }

    @Override
    public void nf4Dequantize(Tensor packed, Tensor absmax, long start, int block, Tensor out) {
        f32.nf4Dequantize(packed, absmax, start, block, out);
    }

    @Override
    public void adamwStep(Tensor p, Tensor g, Tensor m, Tensor v, AdamWStep step) {
        f32.adamwStep(p, g, m, v, step);
    }

    @Override
    public String describe() {
        f32.enter();
        return "cpu bf16 kernels (GEMMs on f32 panels of at most " + panelFloats * 4 / 1024 + " KiB)";
    }
}
