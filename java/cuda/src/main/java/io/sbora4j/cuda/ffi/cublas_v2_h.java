// Bindings for the few cuBLAS functions the cuda backend calls (cublas_api.h, the _v2 entry points), in the shape
// jextract emits. cuBLAS is column-major; CudaBackend maps row-major products onto it.
package io.sbora4j.cuda.ffi;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** Downcalls into cuBLAS, found at run time (see {@code SBORA_CUDA_LIB_DIR}). */
@SuppressWarnings({"unused", "checkstyle:TypeName"})
public final class cublas_v2_h {

    private cublas_v2_h() {}

    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    public static final AddressLayout C_POINTER =
            ValueLayout.ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));

    /** cublasOperation_t. */
    public static final int CUBLAS_OP_N = 0;

    public static final int CUBLAS_OP_T = 1;
    /** cublasStatus_t success. */
    public static final int CUBLAS_STATUS_SUCCESS = 0;
    /** cudaDataType_t. */
    public static final int CUDA_R_32F = 0;

    public static final int CUDA_R_16BF = 14;
    /** cublasComputeType_t: f32 accumulation, no reduced-precision shortcuts. */
    public static final int CUBLAS_COMPUTE_32F = 68;
    /** cublasGemmAlgo_t: let cuBLAS choose (tensor cores where the types allow). */
    public static final int CUBLAS_GEMM_DEFAULT = -1;

    static MemorySegment findOrThrow(String symbol) {
        return CudaLibraries.cublas()
                .find(symbol)
                .orElseThrow(() -> new UnsatisfiedLinkError("unresolved cuBLAS symbol: " + symbol));
    }

    private static final class cublasCreate_v2 {
        // cublasStatus_t cublasCreate_v2(cublasHandle_t *handle)
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(findOrThrow("cublasCreate_v2"), DESC);
    }

    public static int cublasCreate_v2(MemorySegment handle) {
        try {
            return (int) cublasCreate_v2.HANDLE.invokeExact(handle);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class cublasDestroy_v2 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(findOrThrow("cublasDestroy_v2"), DESC);
    }

    public static int cublasDestroy_v2(MemorySegment handle) {
        try {
            return (int) cublasDestroy_v2.HANDLE.invokeExact(handle);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class cublasSgemm_v2 {
        // cublasStatus_t cublasSgemm_v2(cublasHandle_t, cublasOperation_t transa, cublasOperation_t transb, int m,
        //     int n, int k, const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
        //     float *C, int ldc)   -- alpha and beta are host pointers (the default pointer mode)
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER, C_INT,
                C_POINTER, C_POINTER, C_INT);
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(findOrThrow("cublasSgemm_v2"), DESC);
    }

    public static int cublasSgemm_v2(
            MemorySegment handle,
            int transa,
            int transb,
            int m,
            int n,
            int k,
            MemorySegment alpha,
            MemorySegment a,
            int lda,
            MemorySegment b,
            int ldb,
            MemorySegment beta,
            MemorySegment c,
            int ldc) {
        try {
            return (int) cublasSgemm_v2.HANDLE.invokeExact(
                    handle, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class cublasSetStream_v2 {
        // cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId)
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
        static final MethodHandle HANDLE =
                Linker.nativeLinker().downcallHandle(findOrThrow("cublasSetStream_v2"), DESC);
    }

    public static int cublasSetStream_v2(MemorySegment handle, MemorySegment stream) {
        try {
            return (int) cublasSetStream_v2.HANDLE.invokeExact(handle, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class cublasGemmEx {
        // cublasStatus_t cublasGemmEx(cublasHandle_t, cublasOperation_t transa, cublasOperation_t transb, int m,
        //     int n, int k, const void *alpha, const void *A, cudaDataType_t Atype, int lda, const void *B,
        //     cudaDataType_t Btype, int ldb, const void *beta, void *C, cudaDataType_t Ctype, int ldc,
        //     cublasComputeType_t computeType, cublasGemmAlgo_t algo)
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_POINTER, C_INT, C_INT, C_POINTER,
                C_INT, C_INT, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT);
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(findOrThrow("cublasGemmEx"), DESC);
    }

    public static int cublasGemmEx(
            MemorySegment handle,
            int transa,
            int transb,
            int m,
            int n,
            int k,
            MemorySegment alpha,
            MemorySegment a,
            int atype,
            int lda,
            MemorySegment b,
            int btype,
            int ldb,
            MemorySegment beta,
            MemorySegment c,
            int ctype,
            int ldc,
            int computeType,
            int algo) {
        try {
            return (int) cublasGemmEx.HANDLE.invokeExact(
                    handle,
                    transa,
                    transb,
                    m,
                    n,
                    k,
                    alpha,
                    a,
                    atype,
                    lda,
                    b,
                    btype,
                    ldb,
                    beta,
                    c,
                    ctype,
                    ldc,
                    computeType,
                    algo);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }
}
