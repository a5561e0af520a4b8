package io.sbora4j.cuda;

import static io.sbora4j.cuda.CudaRuntime.check;

import io.sbora4j.backend.AdamWStep;
import io.sbora4j.backend.AttentionShape;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.KernelChecks;
import io.sbora4j.backend.UnfusedSboraGemms;
import io.sbora4j.cuda.ffi.CudaLibraries;
import io.sbora4j.cuda.ffi.cublas_v2_h;
import io.sbora4j.cuda.ffi.sbora_cuda_h;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.ToIntFunction;

/**
 * The kernels of {@code libsbora_cuda.so} (mirrors of the C kernels) and cuBLAS for every matmul, on GPU memory.
 * Everything runs on one stream ({@link CudaRuntime#stream()}, cuBLAS included), so calls are ordered; a call
 * returns once launched, and results reach the host through the copies of {@link CudaMemory}, which wait for the
 * stream (reductions copy their 8-byte result back). bf16 tensors go to the typed launchers and to
 * {@code cublasGemmEx} (bf16 inputs, f32 accumulation); f32 ones to the f32 kernels, which equal the CPU's bit for
 * bit where those are single IEEE operations. Thread-safe: reductions share one scratch buffer under a lock,
 * everything else is stateless.
 */
public final class CudaBackend implements Backend {

    private final MemorySegment cublas;
    private final MemorySegment stream;
    private final Device device;
    /** Whether SBoRA's GEMMs run as the fused kernels (else a gather and cuBLAS): {@link BackendOptions#sboraGemms()}. */
    private final boolean fused;
    /** The fused kernels' form: bf16 on tensor cores, or on the SIMT kernel ({@link BackendOptions#tensorCores()}). */
    private final int kernel;

    private final MemorySegment scratch; // 16 bytes of device memory for reduction results
    private final Object scratchLock = new Object();

    CudaBackend(Device device, BackendOptions options) {
        this.device = device;
        this.fused = options.sboraGemms() != BackendOptions.SboraGemms.UNFUSED;
        this.kernel = options.tensorCores() ? sbora_cuda_h.SBC_KERNEL_AUTO : sbora_cuda_h.SBC_KERNEL_SIMT;
        CudaLibraries.cublas();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment h = a.allocate(ValueLayout.ADDRESS);
            cublasCheck(cublas_v2_h.cublasCreate_v2(h), "cublasCreate");
            cublas = h.get(ValueLayout.ADDRESS, 0);
        }
        stream = CudaRuntime.stream();
        cublasCheck(cublas_v2_h.cublasSetStream_v2(cublas, stream), "cublasSetStream");
        scratch = CudaMemory.INSTANCE.allocate(Arena.global(), 16);
    }

    @Override
    public Device device() {
        return device;
    }

    private static MemorySegment seg(Tensor t) {
        return t == null ? MemorySegment.NULL : t.data();
    }

    private static void cublasCheck(int status, String fn) {
        if (status != cublas_v2_h.CUBLAS_STATUS_SUCCESS) {
            throw new CudaException(fn + ": " + cublasStatusName(status));
        }
    }

    static String cublasStatusName(int s) {
        return switch (s) {
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "cuBLAS status " + s;
        };
    }

    /**
     * Row-major C = alpha·op(A)·op(B) + beta·C through column-major cuBLAS: a row-major matrix read column-major is
     * its transpose, so C is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ, i.e. cuBLAS's (B, A) with the same flags.
     */
    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        KernelChecks.gemm(device, transA, transB, a, b, c);
        int m = c.dim(0), n = c.dim(1), k = transA ? a.dim(0) : a.dim(1);
        if (m == 0 || n == 0) {
            return;
        }
        if (!allF32(a, b, c)) {
            mixedGemm(transA, transB, alpha, a, b, beta, c, m, n, k);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment al = arena.allocateFrom(ValueLayout.JAVA_FLOAT, alpha);
            MemorySegment be = arena.allocateFrom(ValueLayout.JAVA_FLOAT, beta);
            cublasCheck(
                    cublas_v2_h.cublasSgemm_v2(
                            cublas,
                            transB ? cublas_v2_h.CUBLAS_OP_T : cublas_v2_h.CUBLAS_OP_N,
                            transA ? cublas_v2_h.CUBLAS_OP_T : cublas_v2_h.CUBLAS_OP_N,
                            n,
                            m,
                            k,
                            al,
                            seg(b),
                            Math.max(1, b.dim(1)),
                            seg(a),
                            Math.max(1, a.dim(1)),
                            be,
                            seg(c),
                            Math.max(1, n)),
                    "cublasSgemm");
        }
    }

    /**
     * The bf16 forms of {@link #gemm}: an f32 operand beside a bf16 one is rounded to bf16 first (Backend's
     * contract), then {@code cublasGemmEx} multiplies bf16 by bf16 with f32 accumulation into c's type. Two f32
     * operands with a bf16 c go through an f32 product that is rounded into c.
     */
    private void mixedGemm(
            boolean transA,
            boolean transB,
            float alpha,
            Tensor a,
            Tensor b,
            float beta,
            Tensor c,
            int m,
            int n,
            int k) {
        if (a.dtype() == DType.F32 && b.dtype() == DType.F32) {
            Tensor c32 = Tensor.empty(c.device(), DType.F32, c.shape().dims());
            if (beta != 0f) {
                convert(c, c32);
            }
            gemm(transA, transB, alpha, a, b, beta, c32);
            convert(c32, c);
            return;
        }
        Tensor a16 = asBf16(a), b16 = asBf16(b);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment al = arena.allocateFrom(ValueLayout.JAVA_FLOAT, alpha);
            MemorySegment be = arena.allocateFrom(ValueLayout.JAVA_FLOAT, beta);
            int ctype = c.dtype() == DType.BF16 ? cublas_v2_h.CUDA_R_16BF : cublas_v2_h.CUDA_R_32F;
            cublasCheck(
                    cublas_v2_h.cublasGemmEx(
                            cublas,
                            transB ? cublas_v2_h.CUBLAS_OP_T : cublas_v2_h.CUBLAS_OP_N,
                            transA ? cublas_v2_h.CUBLAS_OP_T : cublas_v2_h.CUBLAS_OP_N,
                            n,
                            m,
                            k,
                            al,
                            seg(b16),
                            cublas_v2_h.CUDA_R_16BF,
                            Math.max(1, b.dim(1)),
                            seg(a16),
                            cublas_v2_h.CUDA_R_16BF,
                            Math.max(1, a.dim(1)),
                            be,
                            seg(c),
                            ctype,
                            Math.max(1, n),
                            cublas_v2_h.CUBLAS_COMPUTE_32F,
                            cublas_v2_h.CUBLAS_GEMM_DEFAULT),
                    "cublasGemmEx");
        }
    }

    /** t itself when bf16, else a bf16 copy of it in the current scope. */
    private Tensor asBf16(Tensor t) {
        if (t.dtype() == DType.BF16) {
            return t;
        }
        Tensor h = Tensor.empty(t.device(), DType.BF16, t.shape().dims());
        convert(t, h);
        return h;
    }

    private static boolean allF32(Tensor... ts) {
        for (Tensor t : ts) {
            if (t.dtype() != DType.F32) {
                return false;
            }
        }
        return true;
    }

    private static int type(Tensor t) {
        return switch (t.dtype()) {
            case F32 -> sbora_cuda_h.SBC_F32;
            case BF16 -> sbora_cuda_h.SBC_BF16;
            default -> throw new IllegalArgumentException("cuda kernels take f32 or bf16, not " + t.describe());
        };
    }

    @Override
    public void convert(Tensor src, Tensor dst) {
        KernelChecks.convert(device, src, dst);
        check(sbora_cuda_h.sbc_convert(seg(src), type(src), seg(dst), type(dst), dst.numel(), stream), "sbc_convert");
    }

    @Override
    public void gatherGemm(Tensor x, Tensor idx, Tensor f, boolean transF, float alpha, Tensor c, Tensor xs) {
        KernelChecks.gatherGemm(device, x, idx, f, transF, c, xs);
        if (!fused || f.dtype() != DType.F32 || c.dtype() != x.dtype() || (xs != null && xs.dtype() != x.dtype())) {
            UnfusedSboraGemms.gatherGemm(this, x, idx, f, transF, alpha, c, xs);
            return;
        }
        long m = x.shape().rows(), r = idx.numel(), n = c.shape().cols();
        check(
                sbora_cuda_h.sbc_gather_gemm(
                        type(x),
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
                        seg(xs),
                        r,
                        kernel,
                        stream),
                "sbc_gather_gemm");
    }

    @Override
    public void gemmScatter(Tensor a, Tensor f, boolean transF, Tensor idx, float alpha, Tensor c) {
        KernelChecks.gemmScatter(device, a, f, transF, idx, c);
        if (!fused || f.dtype() != DType.F32 || c.dtype() != a.dtype()) {
            UnfusedSboraGemms.gemmScatter(this, a, f, transF, idx, alpha, c);
            return;
        }
        long m = a.shape().rows(), kdim = a.shape().cols(), r = idx.numel();
        check(
                sbora_cuda_h.sbc_gemm_scatter(
                        type(a),
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
                        c.shape().cols(),
                        kernel,
                        stream),
                "sbc_gemm_scatter");
    }

    // The methods below take f32 or bf16 and call the typed launchers (sbora_cuda.h, "mixed precision"), which on
    // f32 arrays compute exactly what the f32 launcher of the same name does (the emulated tests check it).

    @Override
    public void gatherCols(Tensor x, Tensor idx, Tensor out) {
        KernelChecks.gatherCols(device, x, idx, out);
        long rows = x.shape().rows(), cols = x.shape().cols(), r = idx.numel();
        check(
                sbora_cuda_h.sbc_gather_cols_t(seg(x), type(x), rows, cols, cols, seg(idx), r, seg(out), r, stream),
                "sbc_gather_cols_t");
    }

    @Override
    public void gatherRows(Tensor x, Tensor idx, Tensor out) {
        KernelChecks.gatherRows(device, x, idx, out);
        long rows = x.shape().rows(), cols = x.shape().cols(), r = idx.numel();
        check(
                sbora_cuda_h.sbc_gather_rows_t(seg(x), type(x), rows, cols, cols, seg(idx), r, seg(out), cols, stream),
                "sbc_gather_rows_t");
    }

    @Override
    public void indexAddCols(Tensor dst, Tensor idx, Tensor src, float alpha) {
        KernelChecks.indexAddCols(device, dst, idx, src);
        long rows = dst.shape().rows(), cols = dst.shape().cols(), r = idx.numel();
        check(
                sbora_cuda_h.sbc_index_add_cols_t(
                        seg(dst), type(dst), rows, cols, cols, seg(idx), r, seg(src), type(src), r, alpha, stream),
                "sbc_index_add_cols_t");
    }

    @Override
    public void indexAddRows(Tensor dst, Tensor idx, Tensor src, float alpha) {
        KernelChecks.indexAddRows(device, dst, idx, src);
        long rows = dst.shape().rows(), cols = dst.shape().cols(), r = idx.numel();
        check(
                sbora_cuda_h.sbc_index_add_rows_t(
                        seg(dst), type(dst), rows, cols, cols, seg(idx), r, seg(src), type(src), cols, alpha, stream),
                "sbc_index_add_rows_t");
    }

    @Override
    public void fill(Tensor x, float value) {
        KernelChecks.fill(device, x);
        check(sbora_cuda_h.sbc_fill_t(seg(x), type(x), x.numel(), value, stream), "sbc_fill_t");
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        KernelChecks.copy(device, src, dst);
        dst.copyFrom(src);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "add", a, b, out);
        binary(sbora_cuda_h.SBC_OP_ADD, a, b, out);
    }

    @Override
    public void sub(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "sub", a, b, out);
        binary(sbora_cuda_h.SBC_OP_SUB, a, b, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "mul", a, b, out);
        binary(sbora_cuda_h.SBC_OP_MUL, a, b, out);
    }

    @Override
    public void div(Tensor a, Tensor b, Tensor out) {
        KernelChecks.binary(device, "div", a, b, out);
        binary(sbora_cuda_h.SBC_OP_DIV, a, b, out);
    }

    private void binary(int op, Tensor a, Tensor b, Tensor out) {
        check(sbora_cuda_h.sbc_binary_t(op, seg(a), seg(b), type(out), out.numel(), seg(out), stream), "sbc_binary_t");
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        KernelChecks.scale(device, x, out);
        check(sbora_cuda_h.sbc_scale_t(seg(x), type(x), out.numel(), s, seg(out), stream), "sbc_scale_t");
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        KernelChecks.axpy(device, x, y);
        check(sbora_cuda_h.sbc_axpy_t(y.numel(), alpha, seg(x), type(x), seg(y), type(y), stream), "sbc_axpy_t");
    }

    /** Runs a reduction into the scratch buffer and copies its 8-byte result back (which synchronises). */
    private long reduce(ToIntFunction<MemorySegment> launch, String fn) {
        synchronized (scratchLock) {
            check(launch.applyAsInt(scratch), fn);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment host = a.allocate(8);
                check(
                        sbora_cuda_h.sbc_memcpy_async(host, scratch, 8, sbora_cuda_h.SBC_DEVICE_TO_HOST, stream),
                        fn + " result");
                CudaRuntime.synchronize();
                return host.get(ValueLayout.JAVA_LONG, 0);
            }
        }
    }

    @Override
    public double sum(Tensor x) {
        KernelChecks.reduce(device, "sum", x);
        return Double.longBitsToDouble(
                reduce(out -> sbora_cuda_h.sbc_sum_t(seg(x), type(x), x.numel(), out, stream), "sbc_sum_t"));
    }

    @Override
    public double dot(Tensor a, Tensor b) {
        KernelChecks.dot(device, a, b);
        return Double.longBitsToDouble(
                reduce(out -> sbora_cuda_h.sbc_dot(seg(a), seg(b), a.numel(), out, stream), "sbc_dot"));
    }

    @Override
    public long countNonFinite(Tensor x) {
        KernelChecks.reduce(device, "countNonFinite", x);
        return reduce(
                out -> sbora_cuda_h.sbc_count_nonfinite_t(seg(x), type(x), x.numel(), out, stream),
                "sbc_count_nonfinite_t");
    }

    @Override
    public void rowNorm(Tensor x, Tensor out) {
        KernelChecks.rowNorm(device, x, out);
        check(sbora_cuda_h.sbc_row_norm(seg(x), x.shape().rows(), x.shape().cols(), seg(out), stream), "sbc_row_norm");
    }

    @Override
    public void scaleRows(Tensor x, Tensor s, Tensor out) {
        KernelChecks.scaleRowsOrCols(device, true, x, s, out);
        check(
                sbora_cuda_h.sbc_scale_rows(seg(x), x.shape().rows(), x.shape().cols(), seg(s), seg(out), stream),
                "sbc_scale_rows");
    }

    @Override
    public void scaleCols(Tensor x, Tensor s, Tensor out) {
        KernelChecks.scaleRowsOrCols(device, false, x, s, out);
        check(
                sbora_cuda_h.sbc_scale_cols(seg(x), x.shape().rows(), x.shape().cols(), seg(s), seg(out), stream),
                "sbc_scale_cols");
    }

    @Override
    public void colDot(Tensor a, Tensor b, Tensor out) {
        KernelChecks.colDot(device, a, b, out);
        check(
                sbora_cuda_h.sbc_col_dot(
                        seg(a), seg(b), a.shape().rows(), a.shape().cols(), seg(out), stream),
                "sbc_col_dot");
    }

    @Override
    public void transpose(Tensor x, Tensor out) {
        KernelChecks.transpose(device, x, out);
        check(
                sbora_cuda_h.sbc_transpose(seg(x), x.shape().rows(), x.shape().cols(), seg(out), stream),
                "sbc_transpose");
    }

    @Override
    public void rmsNormForward(Tensor x, Tensor w, float eps, Tensor y, Tensor rstd) {
        KernelChecks.rmsNormForward(device, x, w, eps, y, rstd);
        check(
                sbora_cuda_h.sbc_rmsnorm_forward(
                        seg(x), seg(w), x.shape().rows(), x.shape().cols(), eps, seg(y), seg(rstd), stream),
                "sbc_rmsnorm_forward");
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor w, Tensor rstd, Tensor dy, Tensor dx, Tensor dw) {
        KernelChecks.rmsNormBackward(device, x, w, rstd, dy, dx, dw);
        check(
                sbora_cuda_h.sbc_rmsnorm_backward(
                        seg(x),
                        seg(w),
                        seg(rstd),
                        seg(dy),
                        x.shape().rows(),
                        x.shape().cols(),
                        seg(dx),
                        seg(dw),
                        stream),
                "sbc_rmsnorm_backward");
    }

    @Override
    public void rope(Tensor x, int heads, Tensor positions, Tensor cos, Tensor sin, float sign, Tensor out) {
        KernelChecks.rope(device, x, heads, positions, cos, sin, out);
        check(
                sbora_cuda_h.sbc_rope(
                        seg(x),
                        x.shape().rows(),
                        heads,
                        x.shape().cols() / heads,
                        seg(positions),
                        seg(cos),
                        seg(sin),
                        cos.shape().rows(),
                        sign,
                        seg(out),
                        stream),
                "sbc_rope");
    }

    @Override
    public void siluMulForward(Tensor g, Tensor u, Tensor out) {
        KernelChecks.siluMulForward(device, g, u, out);
        check(sbora_cuda_h.sbc_silu_mul_forward(seg(g), seg(u), g.numel(), seg(out), stream), "sbc_silu_mul_forward");
    }

    @Override
    public void siluMulBackward(Tensor g, Tensor u, Tensor dout, Tensor dg, Tensor du) {
        KernelChecks.siluMulBackward(device, g, u, dout, dg, du);
        check(
                sbora_cuda_h.sbc_silu_mul_backward(seg(g), seg(u), seg(dout), g.numel(), seg(dg), seg(du), stream),
                "sbc_silu_mul_backward");
    }

    @Override
    public void attentionForward(Tensor q, Tensor k, Tensor v, AttentionShape s, Tensor out, Tensor lse) {
        KernelChecks.attentionForward(device, q, k, v, s, out, lse);
        check(
                sbora_cuda_h.sbc_attention_forward(
                        seg(q),
                        seg(k),
                        seg(v),
                        s.batch(),
                        s.seq(),
                        s.heads(),
                        s.kvHeads(),
                        s.headDim(),
                        s.scale(),
                        seg(out),
                        seg(lse),
                        stream),
                "sbc_attention_forward");
    }

    @Override
    public void cachedAttention(
            Tensor q, Tensor kCache, Tensor vCache, Tensor past, AttentionShape s, int window, Tensor out) {
        KernelChecks.cachedAttention(device, q, kCache, vCache, past, s, window, out);
        check(
                sbora_cuda_h.sbc_cached_attention(
                        seg(q),
                        seg(kCache),
                        seg(vCache),
                        seg(past),
                        s.batch(),
                        s.seq(),
                        s.batch() == 0 ? 0 : kCache.shape().rows() / s.batch(),
                        s.heads(),
                        s.kvHeads(),
                        s.headDim(),
                        s.scale(),
                        window,
                        seg(out),
                        stream),
                "sbc_cached_attention");
    }

    @Override
    public void attentionBackward(
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor out,
            Tensor lse,
            Tensor dout,
            AttentionShape s,
            Tensor dq,
            Tensor dk,
            Tensor dv) {
        KernelChecks.attentionBackward(device, q, k, v, out, lse, dout, s, dq, dk, dv);
        check(
                sbora_cuda_h.sbc_attention_backward(
                        seg(q),
                        seg(k),
                        seg(v),
                        seg(out),
                        seg(lse),
                        seg(dout),
                        s.batch(),
                        s.seq(),
                        s.heads(),
                        s.kvHeads(),
                        s.headDim(),
                        s.scale(),
                        seg(dq),
                        seg(dk),
                        seg(dv),
                        stream),
                "sbc_attention_backward");
    }

    @Override
    public void crossEntropyForward(Tensor logits, Tensor targets, int ignoreIndex, Tensor loss, Tensor lse) {
        KernelChecks.crossEntropyForward(device, logits, targets, ignoreIndex, loss, lse);
        check(
                sbora_cuda_h.sbc_cross_entropy_forward(
                        seg(logits),
                        seg(targets),
                        logits.shape().rows(),
                        logits.shape().cols(),
                        ignoreIndex,
                        seg(loss),
                        seg(lse),
                        stream),
                "sbc_cross_entropy_forward");
    }

    @Override
    public void crossEntropyBackward(
            Tensor logits, Tensor targets, Tensor lse, int ignoreIndex, float scale, Tensor dlogits) {
        KernelChecks.crossEntropyBackward(device, logits, targets, lse, ignoreIndex, dlogits);
        check(
                sbora_cuda_h.sbc_cross_entropy_backward(
                        seg(logits),
                        seg(targets),
                        seg(lse),
                        logits.shape().rows(),
                        logits.shape().cols(),
                        ignoreIndex,
                        scale,
                        seg(dlogits),
                        stream),
                "sbc_cross_entropy_backward");
    }

    @Override
    public void nf4Quantize(Tensor x, int block, Tensor packed, Tensor absmax) {
        KernelChecks.nf4Quantize(device, x, block, packed, absmax);
        check(
                sbora_cuda_h.sbc_nf4_quantize(seg(x), x.numel(), block, seg(packed), seg(absmax), stream),
                "sbc_nf4_quantize");
    }

    @Override
    public void nf4Dequantize(Tensor packed, Tensor absmax, long start, int block, Tensor out) {
        KernelChecks.nf4Dequantize(device, packed, absmax, start, block, out);
        check(
                sbora_cuda_h.sbc_nf4_dequantize(seg(packed), seg(absmax), start, out.numel(), block, seg(out), stream),
                "sbc_nf4_dequantize");
    }

    @Override
    public void adamwStep(Tensor p, Tensor g, Tensor m, Tensor v, AdamWStep s) {
        KernelChecks.adamwStep(device, p, g, m, v, s);
        check(
                sbora_cuda_h.sbc_adamw_step(
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
                        s.biasCorrection2Sqrt(),
                        stream),
                "sbc_adamw_step");
    }

    /** Waits for every launched kernel; surfaces an asynchronous error as a {@link CudaException}. */
    @Override
    public void synchronize() {
        CudaRuntime.synchronize();
    }

    @Override
    public String describe() {
        return "cuda: " + CudaRuntime.device() + ", cuBLAS "
                + CudaLibraries.cublasStatus().path();
    }
}
