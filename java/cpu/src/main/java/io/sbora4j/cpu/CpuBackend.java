package io.sbora4j.cpu;

import static io.sbora4j.cpu.ffi.sbora_native_h.SB_ERR_ARG;
import static io.sbora4j.cpu.ffi.sbora_native_h.SB_ERR_INDEX;
import static io.sbora4j.cpu.ffi.sbora_native_h.SB_OK;

import io.sbora4j.backend.AdamWStep;
import io.sbora4j.backend.AttentionShape;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.Bf16Fallback;
import io.sbora4j.backend.KernelChecks;
import io.sbora4j.backend.UnfusedSboraGemms;
import io.sbora4j.cpu.ffi.CpuLibraries;
import io.sbora4j.cpu.ffi.cblas_h;
import io.sbora4j.cpu.ffi.sbora_native_h;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Native kernels on host memory: every matmul through {@code sb_sgemm}, which calls {@code cblas_sgemm} (OpenBLAS,
 * single-threaded) on tiles of the result from the kernels' OpenMP team, everything else through the C kernels of
 * {@code libsbora_native.so}; f32 only (calls with a bf16 tensor go to {@link CpuBf16Backend}: the
 * {@link Bf16Fallback} that {@link CpuBackendProvider} builds routes them). Each backend keeps its own thread count
 * and passes it with every call, so backends with different counts can be used side by side, from one thread or
 * several. Safe to call from several threads.
 */
public final class CpuBackend implements Backend {

    /** The widest adapter rank the small-N kernels serve; above it OpenBLAS is as fast or faster. */
    static final int SMALL_N = 32;

    private final Device device;
    private final BackendOptions options;
    /** Threads of every call: GEMM tiles and kernels alike. */
    private final int threads;

    /** Needs {@link CpuLibraries#connect()} done. */
    CpuBackend(Device device, BackendOptions options) {
        this.device = device;
        this.options = options;
        this.threads = options.threads() > 0 ? options.threads() : allThreads();
    }

    /** OpenMP's default team size: every core the process may run on, or {@code OMP_NUM_THREADS}. */
    private static int allThreads() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_INT);
            check(sbora_native_h.sb_set_num_threads(0), "sb_set_num_threads");
            check(sbora_native_h.sb_get_num_threads(out), "sb_get_num_threads");
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /**
     * Gives the calling thread this backend's thread count for the native call that follows. The count is the
     * calling thread's in the C library, so setting it before every call (a few nanoseconds) is what makes it this
     * backend's, whichever backend the thread called before and whatever other threads do meanwhile.
     */
    void enter() {
        sbora_native_h.sb_set_num_threads(threads);
    }

    @Override
    public Device device() {
        return device;
    }

    static void check(int status, String function) {
        if (status == SB_OK) {
            return;
        }
        throw switch (status) {
            case SB_ERR_ARG -> new IllegalArgumentException(function + ": invalid argument (null or size)");
            case SB_ERR_INDEX -> new IndexOutOfBoundsException(function + ": index out of range");
            default -> new IllegalStateException(function + " failed with status " + status);
        };
    }

    private static MemorySegment seg(Tensor t) {
        return t.data();
    }

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        KernelChecks.gemm(device, transA, transB, a, b, c);
        KernelChecks.f32("gemm", a, b, c);
        int m = c.dim(0), n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        if (m == 0 || n == 0) {
            return;
        }
        enter();
        if (transA && !transB && beta == 0f && n <= SMALL_N && k > 0) {
            // c = alpha·aᵀ·b with few columns: a thin factor's weight gradient (dB = s·dyᵀ·xs), where OpenBLAS is
            // weakest; sb_gemm_tn_small takes 0.55-0.77 of its time at r <= 32 (docs/bench/sbora-gemm-native.md).
            check(
                    sbora_native_h.sb_gemm_tn_small(seg(a), k, m, a.dim(1), seg(b), n, b.dim(1), alpha, seg(c), n),
                    "sb_gemm_tn_small");
            return;
        }
        check(
                sbora_native_h.sb_sgemm(
                        transA ? 1 : 0,
                        transB ? 1 : 0,
                        m,
                        n,
                        k,
                        alpha,
                        seg(a),
                        Math.max(1, a.dim(1)),
                        seg(b),
                        Math.max(1, b.dim(1)),
                        beta,
                        seg(c),
                        Math.max(1, n)),
                "sb_sgemm");
    }

    @Override
    public void gatherCols(Tensor x, Tensor idx, Tensor out) {
        KernelChecks.gatherCols(device, x, idx, out);
        KernelChecks.f32("gatherCols", x, out);
        enter();
        long rows = x.shape().rows(), cols = x.shape().cols(), r = idx.numel();
        check(sbora_native_h.sb_gather_cols(seg(x), rows, cols, cols, seg(idx), r, seg(out), r), "sb_gather_cols");
    }

    @Override
    public void gatherRows(Tensor x, Tensor idx, Tensor out) {
        KernelChecks.gatherRows(device, x, idx, out);
        KernelChecks.f32("gatherRows", x, out);
        enter();
        long rows = x.shape().rows(), cols = x.shape().cols(), r = idx.numel();
        check(sbora_native_h.sb_gather_rows(seg(x), rows, cols, cols, seg(idx), r, seg(out), cols), "sb_gather_rows");
    }

    @Override
    public void indexAddCols(Tensor dst, Tensor idx, Tensor src, float alpha) {
        KernelChecks.indexAddCols(device, dst, idx, src);
        KernelChecks.f32("indexAddCols", dst, src);
        enter();
        long rows = dst.shape().rows(), cols = dst.shape().cols(), r = idx.numel();
        check(
                sbora_native_h.sb_index_add_cols(seg(dst), rows, cols, cols, seg(idx), r, seg(src), r, alpha),
                "sb_index_add_cols");
    }

    @Override
    public void indexAddRows(Tensor dst, Tensor idx, Tensor src, float alpha) {
        KernelChecks.indexAddRows(device, dst, idx, src);
        KernelChecks.f32("indexAddRows", dst, src);
        enter();
        long rows = dst.shape().rows(), cols = dst.shape().cols(), r = idx.numel();
        check(
                sbora_native_h.sb_index_add_rows(seg(dst), rows, cols, cols, seg(idx), r, seg(src), cols, alpha),
                "sb_index_add_rows");
    }

    @Override
    public void fill(Tensor x, float value) {
        KernelChecks.fill(device, x);
        KernelChecks.f32("fill", x);
        enter();
        check(sbora_native_h.sb_fill(seg(x), x.numel(), value), "sb_fill");
    }

    /**
     * One fused kernel where it measured faster than a gather and OpenBLAS (docs/bench/sbora-gemm-native.md): for
     * r <= 32, except SBoRA-FB's backward on fewer than 128 rows, where the calls take microseconds either way.
     */
    boolean fuseGather(long m, long r, boolean transF) {
        return switch (options.sboraGemms()) {
            case FUSED -> true;
            case UNFUSED -> false;
            case AUTO -> r <= SMALL_N && (transF || m >= 128);
        };
    }

    /** The fused scatter GEMM beats a GEMM into a temporary plus an index-add except SBoRA-FB's on few rows. */
    boolean fuseScatter(long m, boolean transF) {
        return switch (options.sboraGemms()) {
            case FUSED -> true;
            case UNFUSED -> false;
            case AUTO -> !transF || m >= 128;
        };
    }

    @Override
    public void gatherGemm(Tensor x, Tensor idx, Tensor f, boolean transF, float alpha, Tensor c, Tensor xs) {
        KernelChecks.gatherGemm(device, x, idx, f, transF, c, xs);
        KernelChecks.f32("gatherGemm", x, f, c, xs);
        long m = x.shape().rows(), r = idx.numel(), n = c.shape().cols();
        if (!fuseGather(m, r, transF)) {
            UnfusedSboraGemms.gatherGemm(this, x, idx, f, transF, alpha, c, xs);
            return;
        }
        enter();
        check(
                sbora_native_h.sb_gather_gemm(
                        seg(x),
                        m,
                        x.shape().cols(),
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
                        r),
                "sb_gather_gemm");
    }

    @Override
    public void gemmScatter(Tensor a, Tensor f, boolean transF, Tensor idx, float alpha, Tensor c) {
        KernelChecks.gemmScatter(device, a, f, transF, idx, c);
        KernelChecks.f32("gemmScatter", a, f, c);
        long m = a.shape().rows(), kdim = a.shape().cols(), r = idx.numel();
        if (!fuseScatter(m, transF)) {
            UnfusedSboraGemms.gemmScatter(this, a, f, transF, idx, alpha, c);
            return;
        }
        enter();
        check(
                sbora_native_h.sb_gemm_scatter(
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
                        c.shape().cols()),
                "sb_gemm_scatter");
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        KernelChecks.copy(device, src, dst);
        MemorySegment.copy(src.data(), 0, dst.data(), 0, src.bytes());
    }

    /** Same-type copies only: conversions to and from bf16 go to {@link CpuBf16Backend} ({@link Bf16Fallback}). */
    @Override
    public void convert(Tensor src, Tensor dst) {
        KernelChecks.convert(device, src, dst);
        if (src.dtype() != dst.dtype()) {
            throw new IllegalArgumentException(
                    "the cpu kernels are f32 only: " + src.describe() + " to " + dst.describe());
        }
        copy(src, dst);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "add", a, b, out);
        KernelChecks.f32("add", a);
        enter();
        check(sbora_native_h.sb_add(seg(a), seg(b), out.numel(), seg(out)), "sb_add");
    }

    @Override
    public void sub(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "sub", a, b, out);
        KernelChecks.f32("sub", a);
        enter();
        check(sbora_native_h.sb_sub(seg(a), seg(b), out.numel(), seg(out)), "sb_sub");
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "mul", a, b, out);
        KernelChecks.f32("mul", a);
        enter();
        check(sbora_native_h.sb_mul(seg(a), seg(b), out.numel(), seg(out)), "sb_mul");
    }

    @Override
    public void div(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "div", a, b, out);
        KernelChecks.f32("div", a);
        enter();
        check(sbora_native_h.sb_div(seg(a), seg(b), out.numel(), seg(out)), "sb_div");
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        KernelChecks.scale(device, x, out);
        KernelChecks.f32("scale", x);
        enter();
        check(sbora_native_h.sb_scale(seg(x), out.numel(), s, seg(out)), "sb_scale");
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        KernelChecks.axpy(device, x, y);
        KernelChecks.f32("axpy", x, y);
        enter();
        check(sbora_native_h.sb_axpy(y.numel(), alpha, seg(x), seg(y)), "sb_axpy");
    }

    @Override
    public double sum(Tensor x) {
        KernelChecks.reduce(device, "sum", x);
        KernelChecks.f32("sum", x);
        enter();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_DOUBLE);
            check(sbora_native_h.sb_sum(seg(x), x.numel(), out), "sb_sum");
            return out.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }

    @Override
    public double dot(Tensor a, Tensor b) {
        KernelChecks.dot(device, a, b);
        enter();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_DOUBLE);
            check(sbora_native_h.sb_dot(seg(a), seg(b), a.numel(), out), "sb_dot");
            return out.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }

    @Override
    public long countNonFinite(Tensor x) {
        KernelChecks.reduce(device, "countNonFinite", x);
        KernelChecks.f32("countNonFinite", x);
        enter();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_LONG);
            check(sbora_native_h.sb_count_nonfinite(seg(x), x.numel(), out), "sb_count_nonfinite");
            return out.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    @Override
    public void rowNorm(Tensor x, Tensor out) {
        KernelChecks.rowNorm(device, x, out);
        enter();
        check(sbora_native_h.sb_row_norm(seg(x), x.shape().rows(), x.shape().cols(), seg(out)), "sb_row_norm");
    }

    @Override
    public void scaleRows(Tensor x, Tensor s, Tensor out) {
        KernelChecks.scaleRowsOrCols(device, true, x, s, out);
        enter();
        check(
                sbora_native_h.sb_scale_rows(seg(x), x.shape().rows(), x.shape().cols(), seg(s), seg(out)),
                "sb_scale_rows");
    }

    @Override
    public void scaleCols(Tensor x, Tensor s, Tensor out) {
        KernelChecks.scaleRowsOrCols(device, false, x, s, out);
        enter();
        check(
                sbora_native_h.sb_scale_cols(seg(x), x.shape().rows(), x.shape().cols(), seg(s), seg(out)),
                "sb_scale_cols");
    }

    @Override
    public void colDot(Tensor a, Tensor b, Tensor out) {
        KernelChecks.colDot(device, a, b, out);
        enter();
        check(
                sbora_native_h.sb_col_dot(
                        seg(a), seg(b), a.shape().rows(), a.shape().cols(), seg(out)),
                "sb_col_dot");
    }

    @Override
    public void transpose(Tensor x, Tensor out) {
        KernelChecks.transpose(device, x, out);
        enter();
        check(sbora_native_h.sb_transpose(seg(x), x.shape().rows(), x.shape().cols(), seg(out)), "sb_transpose");
    }

    // ---------------------------------------------------------------- transformer layers

    private static MemorySegment orNull(Tensor t) {
        return t == null ? MemorySegment.NULL : t.data();
    }

    @Override
    public void rmsNormForward(Tensor x, Tensor w, float eps, Tensor y, Tensor rstd) {
        KernelChecks.rmsNormForward(device, x, w, eps, y, rstd);
        enter();
        check(
                sbora_native_h.sb_rmsnorm_forward(
                        seg(x), seg(w), x.shape().rows(), x.shape().cols(), eps, seg(y), seg(rstd)),
                "sb_rmsnorm_forward");
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor w, Tensor rstd, Tensor dy, Tensor dx, Tensor dw) {
        KernelChecks.rmsNormBackward(device, x, w, rstd, dy, dx, dw);
        enter();
        check(
                sbora_native_h.sb_rmsnorm_backward(
                        seg(x),
                        seg(w),
                        seg(rstd),
                        seg(dy),
                        x.shape().rows(),
                        x.shape().cols(),
                        orNull(dx),
                        orNull(dw)),
                "sb_rmsnorm_backward");
    }

    @Override
    public void addRmsNormForward(Tensor x, Tensor delta, Tensor w, float eps, Tensor sum, Tensor y, Tensor rstd) {
        KernelChecks.addRmsNormForward(device, x, delta, w, eps, sum, y, rstd);
        enter();
        check(
                sbora_native_h.sb_add_rmsnorm_forward(
                        seg(x),
                        seg(delta),
                        seg(w),
                        x.shape().rows(),
                        x.shape().cols(),
                        eps,
                        seg(sum),
                        seg(y),
                        seg(rstd)),
                "sb_add_rmsnorm_forward");
    }

    @Override
    public void addRmsNormBackward(Tensor sum, Tensor w, Tensor rstd, Tensor dy, Tensor dsum, Tensor dx, Tensor dw) {
        KernelChecks.addRmsNormBackward(device, sum, w, rstd, dy, dsum, dx, dw);
        enter();
        check(
                sbora_native_h.sb_add_rmsnorm_backward(
                        seg(sum),
                        seg(w),
                        seg(rstd),
                        seg(dy),
                        orNull(dsum),
                        sum.shape().rows(),
                        sum.shape().cols(),
                        orNull(dx),
                        orNull(dw)),
                "sb_add_rmsnorm_backward");
    }

    @Override
    public void rope(Tensor x, int heads, Tensor positions, Tensor cos, Tensor sin, float sign, Tensor out) {
        KernelChecks.rope(device, x, heads, positions, cos, sin, out);
        enter();
        int headDim = x.shape().cols() / heads;
        check(
                sbora_native_h.sb_rope(
                        seg(x),
                        x.shape().rows(),
                        heads,
                        headDim,
                        seg(positions),
                        seg(cos),
                        seg(sin),
                        cos.shape().rows(),
                        sign,
                        seg(out)),
                "sb_rope");
    }

    @Override
    public void siluMulForward(Tensor g, Tensor u, Tensor out) {
        KernelChecks.siluMulForward(device, g, u, out);
        enter();
        check(sbora_native_h.sb_silu_mul_forward(seg(g), seg(u), g.numel(), seg(out)), "sb_silu_mul_forward");
    }

    @Override
    public void siluMulBackward(Tensor g, Tensor u, Tensor dout, Tensor dg, Tensor du) {
        KernelChecks.siluMulBackward(device, g, u, dout, dg, du);
        enter();
        check(
                sbora_native_h.sb_silu_mul_backward(seg(g), seg(u), seg(dout), g.numel(), orNull(dg), orNull(du)),
                "sb_silu_mul_backward");
    }

    @Override
    public void attentionForward(Tensor q, Tensor k, Tensor v, AttentionShape a, Tensor out, Tensor lse) {
        KernelChecks.attentionForward(device, q, k, v, a, out, lse);
        enter();
        check(
                sbora_native_h.sb_attention_forward(
                        seg(q),
                        seg(k),
                        seg(v),
                        a.batch(),
                        a.seq(),
                        a.heads(),
                        a.kvHeads(),
                        a.headDim(),
                        a.scale(),
                        seg(out),
                        seg(lse)),
                "sb_attention_forward");
    }

    @Override
    public void cachedAttention(
            Tensor q, Tensor kCache, Tensor vCache, Tensor past, AttentionShape a, int window, Tensor out) {
        KernelChecks.cachedAttention(device, q, kCache, vCache, past, a, window, out);
        enter();
        check(
                sbora_native_h.sb_cached_attention(
                        seg(q),
                        seg(kCache),
                        seg(vCache),
                        seg(past),
                        a.batch(),
                        a.seq(),
                        a.batch() == 0 ? 0 : kCache.shape().rows() / a.batch(),
                        a.heads(),
                        a.kvHeads(),
                        a.headDim(),
                        a.scale(),
                        window,
                        seg(out)),
                "sb_cached_attention");
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
        enter();
        check(
                sbora_native_h.sb_attention_backward(
                        seg(q),
                        seg(k),
                        seg(v),
                        seg(out),
                        seg(lse),
                        seg(dout),
                        a.batch(),
                        a.seq(),
                        a.heads(),
                        a.kvHeads(),
                        a.headDim(),
                        a.scale(),
                        seg(dq),
                        seg(dk),
                        seg(dv)),
                "sb_attention_backward");
    }

    @Override
    public void crossEntropyForward(Tensor logits, Tensor targets, int ignoreIndex, Tensor loss, Tensor lse) {
        KernelChecks.crossEntropyForward(device, logits, targets, ignoreIndex, loss, lse);
        enter();
        check(
                sbora_native_h.sb_cross_entropy_forward(
                        seg(logits),
                        seg(targets),
                        logits.shape().rows(),
                        logits.shape().cols(),
                        ignoreIndex,
                        seg(loss),
                        seg(lse)),
                "sb_cross_entropy_forward");
    }

    @Override
    public void crossEntropyBackward(
            Tensor logits, Tensor targets, Tensor lse, int ignoreIndex, float scale, Tensor dlogits) {
        KernelChecks.crossEntropyBackward(device, logits, targets, lse, ignoreIndex, dlogits);
        enter();
        check(
                sbora_native_h.sb_cross_entropy_backward(
                        seg(logits),
                        seg(targets),
                        seg(lse),
                        logits.shape().rows(),
                        logits.shape().cols(),
                        ignoreIndex,
                        scale,
                        seg(dlogits)),
                "sb_cross_entropy_backward");
    }

    @Override
    public void crossEntropyForwardBackward(
            Tensor logits, Tensor targets, int ignoreIndex, float scale, Tensor loss, Tensor lse, Tensor dlogits) {
        KernelChecks.crossEntropyForwardBackward(device, logits, targets, ignoreIndex, loss, lse, dlogits);
        enter();
        check(
                sbora_native_h.sb_cross_entropy_fused(
                        seg(logits),
                        seg(targets),
                        logits.shape().rows(),
                        logits.shape().cols(),
                        ignoreIndex,
                        scale,
                        seg(loss),
                        seg(lse),
                        seg(dlogits)),
                "sb_cross_entropy_fused");
    }

    @Override
    public void nf4Quantize(Tensor x, int block, Tensor packed, Tensor absmax) {
        KernelChecks.nf4Quantize(device, x, block, packed, absmax);
        enter();
        check(sbora_native_h.sb_nf4_quantize(seg(x), x.numel(), block, seg(packed), seg(absmax)), "sb_nf4_quantize");
    }

    @Override
    public void nf4Dequantize(Tensor packed, Tensor absmax, long start, int block, Tensor out) {
        KernelChecks.nf4Dequantize(device, packed, absmax, start, block, out);
        enter();
        check(
                sbora_native_h.sb_nf4_dequantize(seg(packed), seg(absmax), start, out.numel(), block, seg(out)),
                "sb_nf4_dequantize");
    }

    @Override
    public void adamwStep(Tensor p, Tensor g, Tensor m, Tensor v, AdamWStep s) {
        KernelChecks.adamwStep(device, p, g, m, v, s);
        enter();
        check(
                sbora_native_h.sb_adamw_step(
                        seg(p),
                        seg(g),
                        seg(m),
                        seg(v),
                        p.numel(),
                        s.beta1(),
                        s.beta2(),
                        s.eps(),
                        s.decay(),
                        s.stepSize(),
                        s.biasCorrection2Sqrt()),
                "sb_adamw_step");
    }

    /** Threads of this backend's calls (its {@link BackendOptions#threads()}, or every core for 0). */
    public int threads() {
        return threads;
    }

    @Override
    public String describe() {
        String config;
        try {
            config = cblas_h.openblas_get_config().reinterpret(256).getString(0);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            config = "a CBLAS library";
        }
        return "cpu: " + config + ", " + threads + (threads == 1 ? " thread" : " threads")
                + " (GEMM tiles on single-threaded BLAS and the kernels, one OpenMP team)";
    }
}
