// Bindings for native/include/sbora_native.h, in the shape jextract emits (one class per header, a holder with the
// FunctionDescriptor and MethodHandle per function, a static wrapper). jextract is not available from the registries
// this project builds from, so the file is kept by hand; scripts/jextract-bindings.sh regenerates it where jextract
// is installed, and HeaderBindingsTest fails when this class and the header disagree.
package io.sbora4j.cpu.ffi;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** Downcalls into {@code libsbora_native.so}, one static method per function of {@code sbora_native.h}. */
@SuppressWarnings({"unused", "checkstyle:TypeName"})
public final class sbora_native_h {

    private sbora_native_h() {}

    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
    public static final ValueLayout.OfFloat C_FLOAT = ValueLayout.JAVA_FLOAT;
    public static final ValueLayout.OfDouble C_DOUBLE = ValueLayout.JAVA_DOUBLE;
    public static final AddressLayout C_POINTER =
            ValueLayout.ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));

    public static final int SB_OK = 0;
    public static final int SB_ERR_ARG = 1;
    public static final int SB_ERR_INDEX = 2;
    public static final int SB_F32 = 0;
    public static final int SB_BF16 = 1;
    public static final int SB_OP_ADD = 0;
    public static final int SB_OP_SUB = 1;
    public static final int SB_OP_MUL = 2;
    public static final int SB_OP_DIV = 3;

    static MemorySegment findOrThrow(String symbol) {
        return CpuLibraries.sboraNative()
                .find(symbol)
                .orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + symbol));
    }

    private static final class sb_set_num_threads {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_INT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_set_num_threads");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_set_num_threads$descriptor() {
        return sb_set_num_threads.DESC;
    }

    public static MethodHandle sb_set_num_threads$handle() {
        return sb_set_num_threads.Linked.HANDLE;
    }

    public static int sb_set_num_threads(int n) {
        try {
            return (int) sb_set_num_threads.Linked.HANDLE.invokeExact(n);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_get_num_threads {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_get_num_threads");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_get_num_threads$descriptor() {
        return sb_get_num_threads.DESC;
    }

    public static MethodHandle sb_get_num_threads$handle() {
        return sb_get_num_threads.Linked.HANDLE;
    }

    public static int sb_get_num_threads(MemorySegment out) {
        try {
            return (int) sb_get_num_threads.Linked.HANDLE.invokeExact(out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_set_blas_sgemm {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_set_blas_sgemm");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_set_blas_sgemm$descriptor() {
        return sb_set_blas_sgemm.DESC;
    }

    public static MethodHandle sb_set_blas_sgemm$handle() {
        return sb_set_blas_sgemm.Linked.HANDLE;
    }

    public static int sb_set_blas_sgemm(MemorySegment cblas_sgemm) {
        try {
            return (int) sb_set_blas_sgemm.Linked.HANDLE.invokeExact(cblas_sgemm);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_sgemm {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_INT, C_INT, C_LONG, C_LONG, C_LONG, C_FLOAT, C_POINTER, C_LONG, C_POINTER, C_LONG, C_FLOAT,
                C_POINTER, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_sgemm");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_sgemm$descriptor() {
        return sb_sgemm.DESC;
    }

    public static MethodHandle sb_sgemm$handle() {
        return sb_sgemm.Linked.HANDLE;
    }

    public static int sb_sgemm(
            int trans_a,
            int trans_b,
            long m,
            long n,
            long k,
            float alpha,
            MemorySegment a,
            long lda,
            MemorySegment b,
            long ldb,
            float beta,
            MemorySegment c,
            long ldc) {
        try {
            return (int)
                    sb_sgemm.Linked.HANDLE.invokeExact(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_gather_cols {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_gather_cols");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_gather_cols$descriptor() {
        return sb_gather_cols.DESC;
    }

    public static MethodHandle sb_gather_cols$handle() {
        return sb_gather_cols.Linked.HANDLE;
    }

    public static int sb_gather_cols(
            MemorySegment x, long rows, long cols, long ldx, MemorySegment idx, long r, MemorySegment out, long ldo) {
        try {
            return (int) sb_gather_cols.Linked.HANDLE.invokeExact(x, rows, cols, ldx, idx, r, out, ldo);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_gather_rows {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_gather_rows");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_gather_rows$descriptor() {
        return sb_gather_rows.DESC;
    }

    public static MethodHandle sb_gather_rows$handle() {
        return sb_gather_rows.Linked.HANDLE;
    }

    public static int sb_gather_rows(
            MemorySegment x, long rows, long cols, long ldx, MemorySegment idx, long r, MemorySegment out, long ldo) {
        try {
            return (int) sb_gather_rows.Linked.HANDLE.invokeExact(x, rows, cols, ldx, idx, r, out, ldo);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_index_add_cols {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_FLOAT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_index_add_cols");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_index_add_cols$descriptor() {
        return sb_index_add_cols.DESC;
    }

    public static MethodHandle sb_index_add_cols$handle() {
        return sb_index_add_cols.Linked.HANDLE;
    }

    public static int sb_index_add_cols(
            MemorySegment dst,
            long rows,
            long cols,
            long ldd,
            MemorySegment idx,
            long r,
            MemorySegment src,
            long lds,
            float alpha) {
        try {
            return (int) sb_index_add_cols.Linked.HANDLE.invokeExact(dst, rows, cols, ldd, idx, r, src, lds, alpha);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_index_add_rows {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_FLOAT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_index_add_rows");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_index_add_rows$descriptor() {
        return sb_index_add_rows.DESC;
    }

    public static MethodHandle sb_index_add_rows$handle() {
        return sb_index_add_rows.Linked.HANDLE;
    }

    public static int sb_index_add_rows(
            MemorySegment dst,
            long rows,
            long cols,
            long ldd,
            MemorySegment idx,
            long r,
            MemorySegment src,
            long lds,
            float alpha) {
        try {
            return (int) sb_index_add_rows.Linked.HANDLE.invokeExact(dst, rows, cols, ldd, idx, r, src, lds, alpha);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_gather_gemm {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_INT, C_LONG, C_FLOAT,
                C_POINTER, C_LONG, C_POINTER, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_gather_gemm");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_gather_gemm$descriptor() {
        return sb_gather_gemm.DESC;
    }

    public static MethodHandle sb_gather_gemm$handle() {
        return sb_gather_gemm.Linked.HANDLE;
    }

    public static int sb_gather_gemm(
            MemorySegment x,
            long m,
            long ldx,
            MemorySegment idx,
            long r,
            MemorySegment f,
            long ldf,
            int trans_f,
            long n,
            float alpha,
            MemorySegment c,
            long ldc,
            MemorySegment xs,
            long ldxs) {
        try {
            return (int) sb_gather_gemm.Linked.HANDLE.invokeExact(
                    x, m, ldx, idx, r, f, ldf, trans_f, n, alpha, c, ldc, xs, ldxs);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_gemm_scatter {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_INT, C_POINTER, C_LONG, C_FLOAT,
                C_POINTER, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_gemm_scatter");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_gemm_scatter$descriptor() {
        return sb_gemm_scatter.DESC;
    }

    public static MethodHandle sb_gemm_scatter$handle() {
        return sb_gemm_scatter.Linked.HANDLE;
    }

    public static int sb_gemm_scatter(
            MemorySegment a,
            long m,
            long kdim,
            long lda,
            MemorySegment f,
            long ldf,
            int trans_f,
            MemorySegment idx,
            long r,
            float alpha,
            MemorySegment c,
            long ldc) {
        try {
            return (int)
                    sb_gemm_scatter.Linked.HANDLE.invokeExact(a, m, kdim, lda, f, ldf, trans_f, idx, r, alpha, c, ldc);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_gemm_tn_small {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_LONG, C_FLOAT, C_POINTER, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_gemm_tn_small");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_gemm_tn_small$descriptor() {
        return sb_gemm_tn_small.DESC;
    }

    public static MethodHandle sb_gemm_tn_small$handle() {
        return sb_gemm_tn_small.Linked.HANDLE;
    }

    public static int sb_gemm_tn_small(
            MemorySegment a,
            long m,
            long n,
            long lda,
            MemorySegment b,
            long r,
            long ldb,
            float alpha,
            MemorySegment c,
            long ldc) {
        try {
            return (int) sb_gemm_tn_small.Linked.HANDLE.invokeExact(a, m, n, lda, b, r, ldb, alpha, c, ldc);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_fill {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_FLOAT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_fill");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_fill$descriptor() {
        return sb_fill.DESC;
    }

    public static MethodHandle sb_fill$handle() {
        return sb_fill.Linked.HANDLE;
    }

    public static int sb_fill(MemorySegment x, long n, float value) {
        try {
            return (int) sb_fill.Linked.HANDLE.invokeExact(x, n, value);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_add {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_add");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_add$descriptor() {
        return sb_add.DESC;
    }

    public static MethodHandle sb_add$handle() {
        return sb_add.Linked.HANDLE;
    }

    public static int sb_add(MemorySegment a, MemorySegment b, long n, MemorySegment out) {
        try {
            return (int) sb_add.Linked.HANDLE.invokeExact(a, b, n, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_sub {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_sub");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_sub$descriptor() {
        return sb_sub.DESC;
    }

    public static MethodHandle sb_sub$handle() {
        return sb_sub.Linked.HANDLE;
    }

    public static int sb_sub(MemorySegment a, MemorySegment b, long n, MemorySegment out) {
        try {
            return (int) sb_sub.Linked.HANDLE.invokeExact(a, b, n, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_mul {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_mul");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_mul$descriptor() {
        return sb_mul.DESC;
    }

    public static MethodHandle sb_mul$handle() {
        return sb_mul.Linked.HANDLE;
    }

    public static int sb_mul(MemorySegment a, MemorySegment b, long n, MemorySegment out) {
        try {
            return (int) sb_mul.Linked.HANDLE.invokeExact(a, b, n, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_div {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_div");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_div$descriptor() {
        return sb_div.DESC;
    }

    public static MethodHandle sb_div$handle() {
        return sb_div.Linked.HANDLE;
    }

    public static int sb_div(MemorySegment a, MemorySegment b, long n, MemorySegment out) {
        try {
            return (int) sb_div.Linked.HANDLE.invokeExact(a, b, n, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_scale {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_FLOAT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_scale");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_scale$descriptor() {
        return sb_scale.DESC;
    }

    public static MethodHandle sb_scale$handle() {
        return sb_scale.Linked.HANDLE;
    }

    public static int sb_scale(MemorySegment x, long n, float s, MemorySegment out) {
        try {
            return (int) sb_scale.Linked.HANDLE.invokeExact(x, n, s, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_axpy {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_LONG, C_FLOAT, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_axpy");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_axpy$descriptor() {
        return sb_axpy.DESC;
    }

    public static MethodHandle sb_axpy$handle() {
        return sb_axpy.Linked.HANDLE;
    }

    public static int sb_axpy(long n, float alpha, MemorySegment x, MemorySegment y) {
        try {
            return (int) sb_axpy.Linked.HANDLE.invokeExact(n, alpha, x, y);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_sum {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_sum");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_sum$descriptor() {
        return sb_sum.DESC;
    }

    public static MethodHandle sb_sum$handle() {
        return sb_sum.Linked.HANDLE;
    }

    public static int sb_sum(MemorySegment x, long n, MemorySegment out) {
        try {
            return (int) sb_sum.Linked.HANDLE.invokeExact(x, n, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_dot {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_dot");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_dot$descriptor() {
        return sb_dot.DESC;
    }

    public static MethodHandle sb_dot$handle() {
        return sb_dot.Linked.HANDLE;
    }

    public static int sb_dot(MemorySegment a, MemorySegment b, long n, MemorySegment out) {
        try {
            return (int) sb_dot.Linked.HANDLE.invokeExact(a, b, n, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_count_nonfinite {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_count_nonfinite");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_count_nonfinite$descriptor() {
        return sb_count_nonfinite.DESC;
    }

    public static MethodHandle sb_count_nonfinite$handle() {
        return sb_count_nonfinite.Linked.HANDLE;
    }

    public static int sb_count_nonfinite(MemorySegment x, long n, MemorySegment out) {
        try {
            return (int) sb_count_nonfinite.Linked.HANDLE.invokeExact(x, n, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_row_norm {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_row_norm");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_row_norm$descriptor() {
        return sb_row_norm.DESC;
    }

    public static MethodHandle sb_row_norm$handle() {
        return sb_row_norm.Linked.HANDLE;
    }

    public static int sb_row_norm(MemorySegment x, long rows, long cols, MemorySegment out) {
        try {
            return (int) sb_row_norm.Linked.HANDLE.invokeExact(x, rows, cols, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_scale_rows {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_scale_rows");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_scale_rows$descriptor() {
        return sb_scale_rows.DESC;
    }

    public static MethodHandle sb_scale_rows$handle() {
        return sb_scale_rows.Linked.HANDLE;
    }

    public static int sb_scale_rows(MemorySegment x, long rows, long cols, MemorySegment s, MemorySegment out) {
        try {
            return (int) sb_scale_rows.Linked.HANDLE.invokeExact(x, rows, cols, s, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_scale_cols {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_scale_cols");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_scale_cols$descriptor() {
        return sb_scale_cols.DESC;
    }

    public static MethodHandle sb_scale_cols$handle() {
        return sb_scale_cols.Linked.HANDLE;
    }

    public static int sb_scale_cols(MemorySegment x, long rows, long cols, MemorySegment s, MemorySegment out) {
        try {
            return (int) sb_scale_cols.Linked.HANDLE.invokeExact(x, rows, cols, s, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_col_dot {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_col_dot");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_col_dot$descriptor() {
        return sb_col_dot.DESC;
    }

    public static MethodHandle sb_col_dot$handle() {
        return sb_col_dot.Linked.HANDLE;
    }

    public static int sb_col_dot(MemorySegment a, MemorySegment b, long rows, long cols, MemorySegment out) {
        try {
            return (int) sb_col_dot.Linked.HANDLE.invokeExact(a, b, rows, cols, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_transpose {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_transpose");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_transpose$descriptor() {
        return sb_transpose.DESC;
    }

    public static MethodHandle sb_transpose$handle() {
        return sb_transpose.Linked.HANDLE;
    }

    public static int sb_transpose(MemorySegment x, long rows, long cols, MemorySegment out) {
        try {
            return (int) sb_transpose.Linked.HANDLE.invokeExact(x, rows, cols, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_rmsnorm_forward {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_LONG, C_FLOAT, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_rmsnorm_forward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_rmsnorm_forward$descriptor() {
        return sb_rmsnorm_forward.DESC;
    }

    public static MethodHandle sb_rmsnorm_forward$handle() {
        return sb_rmsnorm_forward.Linked.HANDLE;
    }

    public static int sb_rmsnorm_forward(
            MemorySegment x, MemorySegment w, long rows, long n, float eps, MemorySegment y, MemorySegment rstd) {
        try {
            return (int) sb_rmsnorm_forward.Linked.HANDLE.invokeExact(x, w, rows, n, eps, y, rstd);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_rmsnorm_backward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_rmsnorm_backward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_rmsnorm_backward$descriptor() {
        return sb_rmsnorm_backward.DESC;
    }

    public static MethodHandle sb_rmsnorm_backward$handle() {
        return sb_rmsnorm_backward.Linked.HANDLE;
    }

    public static int sb_rmsnorm_backward(
            MemorySegment x,
            MemorySegment w,
            MemorySegment rstd,
            MemorySegment dy,
            long rows,
            long n,
            MemorySegment dx,
            MemorySegment dw) {
        try {
            return (int) sb_rmsnorm_backward.Linked.HANDLE.invokeExact(x, w, rstd, dy, rows, n, dx, dw);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_rope {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_FLOAT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_rope");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_rope$descriptor() {
        return sb_rope.DESC;
    }

    public static MethodHandle sb_rope$handle() {
        return sb_rope.Linked.HANDLE;
    }

    public static int sb_rope(
            MemorySegment x,
            long rows,
            long heads,
            long head_dim,
            MemorySegment positions,
            MemorySegment cos_table,
            MemorySegment sin_table,
            long max_pos,
            float sign,
            MemorySegment out) {
        try {
            return (int) sb_rope.Linked.HANDLE.invokeExact(
                    x, rows, heads, head_dim, positions, cos_table, sin_table, max_pos, sign, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_silu_mul_forward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_silu_mul_forward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_silu_mul_forward$descriptor() {
        return sb_silu_mul_forward.DESC;
    }

    public static MethodHandle sb_silu_mul_forward$handle() {
        return sb_silu_mul_forward.Linked.HANDLE;
    }

    public static int sb_silu_mul_forward(MemorySegment g, MemorySegment u, long n, MemorySegment out) {
        try {
            return (int) sb_silu_mul_forward.Linked.HANDLE.invokeExact(g, u, n, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_silu_mul_backward {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_silu_mul_backward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_silu_mul_backward$descriptor() {
        return sb_silu_mul_backward.DESC;
    }

    public static MethodHandle sb_silu_mul_backward$handle() {
        return sb_silu_mul_backward.Linked.HANDLE;
    }

    public static int sb_silu_mul_backward(
            MemorySegment g, MemorySegment u, MemorySegment dout, long n, MemorySegment dg, MemorySegment du) {
        try {
            return (int) sb_silu_mul_backward.Linked.HANDLE.invokeExact(g, u, dout, n, dg, du);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_attention_forward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_LONG, C_LONG, C_LONG, C_FLOAT, C_POINTER,
                C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_attention_forward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_attention_forward$descriptor() {
        return sb_attention_forward.DESC;
    }

    public static MethodHandle sb_attention_forward$handle() {
        return sb_attention_forward.Linked.HANDLE;
    }

    public static int sb_attention_forward(
            MemorySegment q,
            MemorySegment k,
            MemorySegment v,
            long batch,
            long seq,
            long heads,
            long kv_heads,
            long head_dim,
            float scale,
            MemorySegment out,
            MemorySegment lse) {
        try {
            return (int) sb_attention_forward.Linked.HANDLE.invokeExact(
                    q, k, v, batch, seq, heads, kv_heads, head_dim, scale, out, lse);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_attention_backward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_LONG, C_LONG,
                C_LONG, C_FLOAT, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_attention_backward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_attention_backward$descriptor() {
        return sb_attention_backward.DESC;
    }

    public static MethodHandle sb_attention_backward$handle() {
        return sb_attention_backward.Linked.HANDLE;
    }

    public static int sb_attention_backward(
            MemorySegment q,
            MemorySegment k,
            MemorySegment v,
            MemorySegment out,
            MemorySegment lse,
            MemorySegment dout,
            long batch,
            long seq,
            long heads,
            long kv_heads,
            long head_dim,
            float scale,
            MemorySegment dq,
            MemorySegment dk,
            MemorySegment dv) {
        try {
            return (int) sb_attention_backward.Linked.HANDLE.invokeExact(
                    q, k, v, out, lse, dout, batch, seq, heads, kv_heads, head_dim, scale, dq, dk, dv);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_cached_attention {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_LONG, C_LONG, C_LONG, C_LONG,
                C_FLOAT, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_cached_attention");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_cached_attention$descriptor() {
        return sb_cached_attention.DESC;
    }

    public static MethodHandle sb_cached_attention$handle() {
        return sb_cached_attention.Linked.HANDLE;
    }

    public static int sb_cached_attention(
            MemorySegment q,
            MemorySegment k_cache,
            MemorySegment v_cache,
            MemorySegment past,
            long batch,
            long new_tokens,
            long max_len,
            long heads,
            long kv_heads,
            long head_dim,
            float scale,
            long window,
            MemorySegment out) {
        try {
            return (int) sb_cached_attention.Linked.HANDLE.invokeExact(
                    q,
                    k_cache,
                    v_cache,
                    past,
                    batch,
                    new_tokens,
                    max_len,
                    heads,
                    kv_heads,
                    head_dim,
                    scale,
                    window,
                    out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_cross_entropy_forward {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_LONG, C_INT, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_cross_entropy_forward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_cross_entropy_forward$descriptor() {
        return sb_cross_entropy_forward.DESC;
    }

    public static MethodHandle sb_cross_entropy_forward$handle() {
        return sb_cross_entropy_forward.Linked.HANDLE;
    }

    public static int sb_cross_entropy_forward(
            MemorySegment logits,
            MemorySegment targets,
            long rows,
            long vocab,
            int ignore_index,
            MemorySegment loss,
            MemorySegment lse) {
        try {
            return (int) sb_cross_entropy_forward.Linked.HANDLE.invokeExact(
                    logits, targets, rows, vocab, ignore_index, loss, lse);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_cross_entropy_backward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_INT, C_FLOAT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_cross_entropy_backward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_cross_entropy_backward$descriptor() {
        return sb_cross_entropy_backward.DESC;
    }

    public static MethodHandle sb_cross_entropy_backward$handle() {
        return sb_cross_entropy_backward.Linked.HANDLE;
    }

    public static int sb_cross_entropy_backward(
            MemorySegment logits,
            MemorySegment targets,
            MemorySegment lse,
            long rows,
            long vocab,
            int ignore_index,
            float scale,
            MemorySegment dlogits) {
        try {
            return (int) sb_cross_entropy_backward.Linked.HANDLE.invokeExact(
                    logits, targets, lse, rows, vocab, ignore_index, scale, dlogits);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_add_rmsnorm_forward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_FLOAT, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_add_rmsnorm_forward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_add_rmsnorm_forward$descriptor() {
        return sb_add_rmsnorm_forward.DESC;
    }

    public static MethodHandle sb_add_rmsnorm_forward$handle() {
        return sb_add_rmsnorm_forward.Linked.HANDLE;
    }

    public static int sb_add_rmsnorm_forward(
            MemorySegment x,
            MemorySegment delta,
            MemorySegment w,
            long rows,
            long n,
            float eps,
            MemorySegment sum,
            MemorySegment y,
            MemorySegment rstd) {
        try {
            return (int) sb_add_rmsnorm_forward.Linked.HANDLE.invokeExact(x, delta, w, rows, n, eps, sum, y, rstd);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_add_rmsnorm_backward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_add_rmsnorm_backward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_add_rmsnorm_backward$descriptor() {
        return sb_add_rmsnorm_backward.DESC;
    }

    public static MethodHandle sb_add_rmsnorm_backward$handle() {
        return sb_add_rmsnorm_backward.Linked.HANDLE;
    }

    public static int sb_add_rmsnorm_backward(
            MemorySegment sum,
            MemorySegment w,
            MemorySegment rstd,
            MemorySegment dy,
            MemorySegment dsum,
            long rows,
            long n,
            MemorySegment dx,
            MemorySegment dw) {
        try {
            return (int) sb_add_rmsnorm_backward.Linked.HANDLE.invokeExact(sum, w, rstd, dy, dsum, rows, n, dx, dw);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_cross_entropy_fused {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_LONG, C_LONG, C_INT, C_FLOAT, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_cross_entropy_fused");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_cross_entropy_fused$descriptor() {
        return sb_cross_entropy_fused.DESC;
    }

    public static MethodHandle sb_cross_entropy_fused$handle() {
        return sb_cross_entropy_fused.Linked.HANDLE;
    }

    public static int sb_cross_entropy_fused(
            MemorySegment logits,
            MemorySegment targets,
            long rows,
            long vocab,
            int ignore_index,
            float scale,
            MemorySegment loss,
            MemorySegment lse,
            MemorySegment dlogits) {
        try {
            return (int) sb_cross_entropy_fused.Linked.HANDLE.invokeExact(
                    logits, targets, rows, vocab, ignore_index, scale, loss, lse, dlogits);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_nf4_quantize {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_nf4_quantize");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_nf4_quantize$descriptor() {
        return sb_nf4_quantize.DESC;
    }

    public static MethodHandle sb_nf4_quantize$handle() {
        return sb_nf4_quantize.Linked.HANDLE;
    }

    public static int sb_nf4_quantize(MemorySegment x, long n, long block, MemorySegment packed, MemorySegment absmax) {
        try {
            return (int) sb_nf4_quantize.Linked.HANDLE.invokeExact(x, n, block, packed, absmax);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_nf4_dequantize {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_nf4_dequantize");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_nf4_dequantize$descriptor() {
        return sb_nf4_dequantize.DESC;
    }

    public static MethodHandle sb_nf4_dequantize$handle() {
        return sb_nf4_dequantize.Linked.HANDLE;
    }

    public static int sb_nf4_dequantize(
            MemorySegment packed, MemorySegment absmax, long start, long count, long block, MemorySegment out) {
        try {
            return (int) sb_nf4_dequantize.Linked.HANDLE.invokeExact(packed, absmax, start, count, block, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_adamw_step {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_FLOAT, C_FLOAT, C_FLOAT, C_FLOAT, C_FLOAT,
                C_FLOAT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_adamw_step");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_adamw_step$descriptor() {
        return sb_adamw_step.DESC;
    }

    public static MethodHandle sb_adamw_step$handle() {
        return sb_adamw_step.Linked.HANDLE;
    }

    public static int sb_adamw_step(
            MemorySegment p,
            MemorySegment g,
            MemorySegment m,
            MemorySegment v,
            long n,
            float beta1,
            float beta2,
            float eps,
            float decay,
            float step_size,
            float bias_correction2_sqrt) {
        try {
            return (int) sb_adamw_step.Linked.HANDLE.invokeExact(
                    p, g, m, v, n, beta1, beta2, eps, decay, step_size, bias_correction2_sqrt);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_convert {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_POINTER, C_INT, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_convert");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_convert$descriptor() {
        return sb_convert.DESC;
    }

    public static MethodHandle sb_convert$handle() {
        return sb_convert.Linked.HANDLE;
    }

    public static int sb_convert(MemorySegment x, int xtype, MemorySegment out, int otype, long n) {
        try {
            return (int) sb_convert.Linked.HANDLE.invokeExact(x, xtype, out, otype, n);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_fill_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG, C_FLOAT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_fill_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_fill_t$descriptor() {
        return sb_fill_t.DESC;
    }

    public static MethodHandle sb_fill_t$handle() {
        return sb_fill_t.Linked.HANDLE;
    }

    public static int sb_fill_t(MemorySegment x, int type, long n, float value) {
        try {
            return (int) sb_fill_t.Linked.HANDLE.invokeExact(x, type, n, value);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_binary_t {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER, C_INT, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_binary_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_binary_t$descriptor() {
        return sb_binary_t.DESC;
    }

    public static MethodHandle sb_binary_t$handle() {
        return sb_binary_t.Linked.HANDLE;
    }

    public static int sb_binary_t(int op, MemorySegment a, MemorySegment b, int type, long n, MemorySegment out) {
        try {
            return (int) sb_binary_t.Linked.HANDLE.invokeExact(op, a, b, type, n, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_scale_t {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG, C_FLOAT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_scale_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_scale_t$descriptor() {
        return sb_scale_t.DESC;
    }

    public static MethodHandle sb_scale_t$handle() {
        return sb_scale_t.Linked.HANDLE;
    }

    public static int sb_scale_t(MemorySegment x, int type, long n, float s, MemorySegment out) {
        try {
            return (int) sb_scale_t.Linked.HANDLE.invokeExact(x, type, n, s, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_axpy_t {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_LONG, C_FLOAT, C_POINTER, C_INT, C_POINTER, C_INT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_axpy_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_axpy_t$descriptor() {
        return sb_axpy_t.DESC;
    }

    public static MethodHandle sb_axpy_t$handle() {
        return sb_axpy_t.Linked.HANDLE;
    }

    public static int sb_axpy_t(long n, float alpha, MemorySegment x, int xtype, MemorySegment y, int ytype) {
        try {
            return (int) sb_axpy_t.Linked.HANDLE.invokeExact(n, alpha, x, xtype, y, ytype);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_sum_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_sum_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_sum_t$descriptor() {
        return sb_sum_t.DESC;
    }

    public static MethodHandle sb_sum_t$handle() {
        return sb_sum_t.Linked.HANDLE;
    }

    public static int sb_sum_t(MemorySegment x, int type, long n, MemorySegment out) {
        try {
            return (int) sb_sum_t.Linked.HANDLE.invokeExact(x, type, n, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_count_nonfinite_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_count_nonfinite_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_count_nonfinite_t$descriptor() {
        return sb_count_nonfinite_t.DESC;
    }

    public static MethodHandle sb_count_nonfinite_t$handle() {
        return sb_count_nonfinite_t.Linked.HANDLE;
    }

    public static int sb_count_nonfinite_t(MemorySegment x, int type, long n, MemorySegment out) {
        try {
            return (int) sb_count_nonfinite_t.Linked.HANDLE.invokeExact(x, type, n, out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_gather_cols_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_INT, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_gather_cols_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_gather_cols_t$descriptor() {
        return sb_gather_cols_t.DESC;
    }

    public static MethodHandle sb_gather_cols_t$handle() {
        return sb_gather_cols_t.Linked.HANDLE;
    }

    public static int sb_gather_cols_t(
            MemorySegment x,
            int type,
            long rows,
            long cols,
            long ldx,
            MemorySegment idx,
            long r,
            MemorySegment out,
            long ldo) {
        try {
            return (int) sb_gather_cols_t.Linked.HANDLE.invokeExact(x, type, rows, cols, ldx, idx, r, out, ldo);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_gather_rows_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_INT, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_gather_rows_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_gather_rows_t$descriptor() {
        return sb_gather_rows_t.DESC;
    }

    public static MethodHandle sb_gather_rows_t$handle() {
        return sb_gather_rows_t.Linked.HANDLE;
    }

    public static int sb_gather_rows_t(
            MemorySegment x,
            int type,
            long rows,
            long cols,
            long ldx,
            MemorySegment idx,
            long r,
            MemorySegment out,
            long ldo) {
        try {
            return (int) sb_gather_rows_t.Linked.HANDLE.invokeExact(x, type, rows, cols, ldx, idx, r, out, ldo);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_index_add_cols_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_INT, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_INT, C_LONG, C_FLOAT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_index_add_cols_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_index_add_cols_t$descriptor() {
        return sb_index_add_cols_t.DESC;
    }

    public static MethodHandle sb_index_add_cols_t$handle() {
        return sb_index_add_cols_t.Linked.HANDLE;
    }

    public static int sb_index_add_cols_t(
            MemorySegment dst,
            int dtype,
            long rows,
            long cols,
            long ldd,
            MemorySegment idx,
            long r,
            MemorySegment src,
            int stype,
            long lds,
            float alpha) {
        try {
            return (int) sb_index_add_cols_t.Linked.HANDLE.invokeExact(
                    dst, dtype, rows, cols, ldd, idx, r, src, stype, lds, alpha);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_index_add_rows_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_INT, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_INT, C_LONG, C_FLOAT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_index_add_rows_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_index_add_rows_t$descriptor() {
        return sb_index_add_rows_t.DESC;
    }

    public static MethodHandle sb_index_add_rows_t$handle() {
        return sb_index_add_rows_t.Linked.HANDLE;
    }

    public static int sb_index_add_rows_t(
            MemorySegment dst,
            int dtype,
            long rows,
            long cols,
            long ldd,
            MemorySegment idx,
            long r,
            MemorySegment src,
            int stype,
            long lds,
            float alpha) {
        try {
            return (int) sb_index_add_rows_t.Linked.HANDLE.invokeExact(
                    dst, dtype, rows, cols, ldd, idx, r, src, stype, lds, alpha);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_bf16_panel {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_bf16_panel");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_bf16_panel$descriptor() {
        return sb_bf16_panel.DESC;
    }

    public static MethodHandle sb_bf16_panel$handle() {
        return sb_bf16_panel.Linked.HANDLE;
    }

    public static int sb_bf16_panel(
            MemorySegment x, int xtype, long rows, long cols, long ldx, MemorySegment out, long ldo) {
        try {
            return (int) sb_bf16_panel.Linked.HANDLE.invokeExact(x, xtype, rows, cols, ldx, out, ldo);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_store_t {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_FLOAT, C_POINTER, C_INT, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_store_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_store_t$descriptor() {
        return sb_store_t.DESC;
    }

    public static MethodHandle sb_store_t$handle() {
        return sb_store_t.Linked.HANDLE;
    }

    public static int sb_store_t(
            MemorySegment t, long rows, long cols, long ldt, float beta, MemorySegment c, int ctype, long ldc) {
        try {
            return (int) sb_store_t.Linked.HANDLE.invokeExact(t, rows, cols, ldt, beta, c, ctype, ldc);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_gather_gemm_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_INT, C_LONG, C_FLOAT,
                C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_gather_gemm_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_gather_gemm_t$descriptor() {
        return sb_gather_gemm_t.DESC;
    }

    public static MethodHandle sb_gather_gemm_t$handle() {
        return sb_gather_gemm_t.Linked.HANDLE;
    }

    public static int sb_gather_gemm_t(
            int type,
            MemorySegment x,
            long m,
            long ldx,
            MemorySegment idx,
            long r,
            MemorySegment f,
            long ldf,
            int trans_f,
            long n,
            float alpha,
            MemorySegment c,
            long ldc,
            MemorySegment xs,
            long ldxs,
            MemorySegment work) {
        try {
            return (int) sb_gather_gemm_t.Linked.HANDLE.invokeExact(
                    type, x, m, ldx, idx, r, f, ldf, trans_f, n, alpha, c, ldc, xs, ldxs, work);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sb_gemm_scatter_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_INT, C_POINTER, C_LONG, C_FLOAT,
                C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sb_gemm_scatter_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sb_gemm_scatter_t$descriptor() {
        return sb_gemm_scatter_t.DESC;
    }

    public static MethodHandle sb_gemm_scatter_t$handle() {
        return sb_gemm_scatter_t.Linked.HANDLE;
    }

    public static int sb_gemm_scatter_t(
            int type,
            MemorySegment a,
            long m,
            long kdim,
            long lda,
            MemorySegment f,
            long ldf,
            int trans_f,
            MemorySegment idx,
            long r,
            float alpha,
            MemorySegment c,
            long ldc,
            MemorySegment work) {
        try {
            return (int) sb_gemm_scatter_t.Linked.HANDLE.invokeExact(
                    type, a, m, kdim, lda, f, ldf, trans_f, idx, r, alpha, c, ldc, work);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }
}
