// Bindings for cuda-kernels/include/sbora_cuda.h, in the shape jextract emits; kept by hand like sbora_native_h
// (scripts/jextract-bindings.sh regenerates both where jextract is installed) and checked against the header by
// HeaderBindingsTest.
package io.sbora4j.cuda.ffi;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** Downcalls into {@code libsbora_cuda.so}, one static method per function of {@code sbora_cuda.h}. */
@SuppressWarnings({"unused", "checkstyle:TypeName"})
public final class sbora_cuda_h {

    private sbora_cuda_h() {}

    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
    public static final ValueLayout.OfFloat C_FLOAT = ValueLayout.JAVA_FLOAT;
    public static final ValueLayout.OfDouble C_DOUBLE = ValueLayout.JAVA_DOUBLE;
    public static final AddressLayout C_POINTER =
            ValueLayout.ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));

    public static final int SBC_OK = 0;
    public static final int SBC_ERR_ARG = 100001;
    public static final int SBC_ERR_INDEX = 100002;
    public static final int SBC_HOST_TO_DEVICE = 1;
    public static final int SBC_DEVICE_TO_HOST = 2;
    public static final int SBC_DEVICE_TO_DEVICE = 3;
    public static final int SBC_F32 = 0;
    public static final int SBC_BF16 = 1;
    public static final int SBC_OP_ADD = 0;
    public static final int SBC_OP_SUB = 1;
    public static final int SBC_OP_MUL = 2;
    public static final int SBC_OP_DIV = 3;
    public static final int SBC_KERNEL_AUTO = 0;
    public static final int SBC_KERNEL_SIMT = 1;

    static MemorySegment findOrThrow(String symbol) {
        return CudaLibraries.sboraCuda()
                .find(symbol)
                .orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + symbol));
    }

    private static final class sbc_device_count {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_device_count");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_device_count$descriptor() {
        return sbc_device_count.DESC;
    }

    public static MethodHandle sbc_device_count$handle() {
        return sbc_device_count.Linked.HANDLE;
    }

    public static int sbc_device_count(MemorySegment out) {
        try {
            return (int) sbc_device_count.Linked.HANDLE.invokeExact(out);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_set_device {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_INT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_set_device");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_set_device$descriptor() {
        return sbc_set_device.DESC;
    }

    public static MethodHandle sbc_set_device$handle() {
        return sbc_set_device.Linked.HANDLE;
    }

    public static int sbc_set_device(int device) {
        try {
            return (int) sbc_set_device.Linked.HANDLE.invokeExact(device);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_device_info {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_device_info");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_device_info$descriptor() {
        return sbc_device_info.DESC;
    }

    public static MethodHandle sbc_device_info$handle() {
        return sbc_device_info.Linked.HANDLE;
    }

    public static int sbc_device_info(int device, MemorySegment name, long len, MemorySegment capability) {
        try {
            return (int) sbc_device_info.Linked.HANDLE.invokeExact(device, name, len, capability);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_error_string {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_error_string");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_error_string$descriptor() {
        return sbc_error_string.DESC;
    }

    public static MethodHandle sbc_error_string$handle() {
        return sbc_error_string.Linked.HANDLE;
    }

    public static int sbc_error_string(int code, MemorySegment buf, long len) {
        try {
            return (int) sbc_error_string.Linked.HANDLE.invokeExact(code, buf, len);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_malloc {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_malloc");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_malloc$descriptor() {
        return sbc_malloc.DESC;
    }

    public static MethodHandle sbc_malloc$handle() {
        return sbc_malloc.Linked.HANDLE;
    }

    public static int sbc_malloc(MemorySegment ptr, long bytes) {
        try {
            return (int) sbc_malloc.Linked.HANDLE.invokeExact(ptr, bytes);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_free");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_free$descriptor() {
        return sbc_free.DESC;
    }

    public static MethodHandle sbc_free$handle() {
        return sbc_free.Linked.HANDLE;
    }

    public static int sbc_free(MemorySegment ptr) {
        try {
            return (int) sbc_free.Linked.HANDLE.invokeExact(ptr);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_memcpy {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_INT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_memcpy");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_memcpy$descriptor() {
        return sbc_memcpy.DESC;
    }

    public static MethodHandle sbc_memcpy$handle() {
        return sbc_memcpy.Linked.HANDLE;
    }

    public static int sbc_memcpy(MemorySegment dst, MemorySegment src, long bytes, int kind) {
        try {
            return (int) sbc_memcpy.Linked.HANDLE.invokeExact(dst, src, bytes, kind);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_memset {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_memset");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_memset$descriptor() {
        return sbc_memset.DESC;
    }

    public static MethodHandle sbc_memset$handle() {
        return sbc_memset.Linked.HANDLE;
    }

    public static int sbc_memset(MemorySegment ptr, int value, long bytes, MemorySegment stream) {
        try {
            return (int) sbc_memset.Linked.HANDLE.invokeExact(ptr, value, bytes, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_synchronize {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_synchronize");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_synchronize$descriptor() {
        return sbc_synchronize.DESC;
    }

    public static MethodHandle sbc_synchronize$handle() {
        return sbc_synchronize.Linked.HANDLE;
    }

    public static int sbc_synchronize() {
        try {
            return (int) sbc_synchronize.Linked.HANDLE.invokeExact();
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_stream_create {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_stream_create");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_stream_create$descriptor() {
        return sbc_stream_create.DESC;
    }

    public static MethodHandle sbc_stream_create$handle() {
        return sbc_stream_create.Linked.HANDLE;
    }

    public static int sbc_stream_create(MemorySegment stream) {
        try {
            return (int) sbc_stream_create.Linked.HANDLE.invokeExact(stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_stream_destroy {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_stream_destroy");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_stream_destroy$descriptor() {
        return sbc_stream_destroy.DESC;
    }

    public static MethodHandle sbc_stream_destroy$handle() {
        return sbc_stream_destroy.Linked.HANDLE;
    }

    public static int sbc_stream_destroy(MemorySegment stream) {
        try {
            return (int) sbc_stream_destroy.Linked.HANDLE.invokeExact(stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_stream_synchronize {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_stream_synchronize");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_stream_synchronize$descriptor() {
        return sbc_stream_synchronize.DESC;
    }

    public static MethodHandle sbc_stream_synchronize$handle() {
        return sbc_stream_synchronize.Linked.HANDLE;
    }

    public static int sbc_stream_synchronize(MemorySegment stream) {
        try {
            return (int) sbc_stream_synchronize.Linked.HANDLE.invokeExact(stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_memcpy_async {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_INT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_memcpy_async");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_memcpy_async$descriptor() {
        return sbc_memcpy_async.DESC;
    }

    public static MethodHandle sbc_memcpy_async$handle() {
        return sbc_memcpy_async.Linked.HANDLE;
    }

    public static int sbc_memcpy_async(
            MemorySegment dst, MemorySegment src, long bytes, int kind, MemorySegment stream) {
        try {
            return (int) sbc_memcpy_async.Linked.HANDLE.invokeExact(dst, src, bytes, kind, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_take_index_fault {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_take_index_fault");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_take_index_fault$descriptor() {
        return sbc_take_index_fault.DESC;
    }

    public static MethodHandle sbc_take_index_fault$handle() {
        return sbc_take_index_fault.Linked.HANDLE;
    }

    public static int sbc_take_index_fault(MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_take_index_fault.Linked.HANDLE.invokeExact(out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_gather_cols {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_gather_cols");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_gather_cols$descriptor() {
        return sbc_gather_cols.DESC;
    }

    public static MethodHandle sbc_gather_cols$handle() {
        return sbc_gather_cols.Linked.HANDLE;
    }

    public static int sbc_gather_cols(
            MemorySegment x,
            long rows,
            long cols,
            long ldx,
            MemorySegment idx,
            long r,
            MemorySegment out,
            long ldo,
            MemorySegment stream) {
        try {
            return (int) sbc_gather_cols.Linked.HANDLE.invokeExact(x, rows, cols, ldx, idx, r, out, ldo, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_gather_rows {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_gather_rows");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_gather_rows$descriptor() {
        return sbc_gather_rows.DESC;
    }

    public static MethodHandle sbc_gather_rows$handle() {
        return sbc_gather_rows.Linked.HANDLE;
    }

    public static int sbc_gather_rows(
            MemorySegment x,
            long rows,
            long cols,
            long ldx,
            MemorySegment idx,
            long r,
            MemorySegment out,
            long ldo,
            MemorySegment stream) {
        try {
            return (int) sbc_gather_rows.Linked.HANDLE.invokeExact(x, rows, cols, ldx, idx, r, out, ldo, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_index_add_cols {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_FLOAT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_index_add_cols");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_index_add_cols$descriptor() {
        return sbc_index_add_cols.DESC;
    }

    public static MethodHandle sbc_index_add_cols$handle() {
        return sbc_index_add_cols.Linked.HANDLE;
    }

    public static int sbc_index_add_cols(
            MemorySegment dst,
            long rows,
            long cols,
            long ldd,
            MemorySegment idx,
            long r,
            MemorySegment src,
            long lds,
            float alpha,
            MemorySegment stream) {
        try {
            return (int)
                    sbc_index_add_cols.Linked.HANDLE.invokeExact(dst, rows, cols, ldd, idx, r, src, lds, alpha, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_index_add_rows {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_FLOAT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_index_add_rows");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_index_add_rows$descriptor() {
        return sbc_index_add_rows.DESC;
    }

    public static MethodHandle sbc_index_add_rows$handle() {
        return sbc_index_add_rows.Linked.HANDLE;
    }

    public static int sbc_index_add_rows(
            MemorySegment dst,
            long rows,
            long cols,
            long ldd,
            MemorySegment idx,
            long r,
            MemorySegment src,
            long lds,
            float alpha,
            MemorySegment stream) {
        try {
            return (int)
                    sbc_index_add_rows.Linked.HANDLE.invokeExact(dst, rows, cols, ldd, idx, r, src, lds, alpha, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_fill {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_FLOAT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_fill");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_fill$descriptor() {
        return sbc_fill.DESC;
    }

    public static MethodHandle sbc_fill$handle() {
        return sbc_fill.Linked.HANDLE;
    }

    public static int sbc_fill(MemorySegment x, long n, float value, MemorySegment stream) {
        try {
            return (int) sbc_fill.Linked.HANDLE.invokeExact(x, n, value, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_add {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_add");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_add$descriptor() {
        return sbc_add.DESC;
    }

    public static MethodHandle sbc_add$handle() {
        return sbc_add.Linked.HANDLE;
    }

    public static int sbc_add(MemorySegment a, MemorySegment b, long n, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_add.Linked.HANDLE.invokeExact(a, b, n, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_sub {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_sub");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_sub$descriptor() {
        return sbc_sub.DESC;
    }

    public static MethodHandle sbc_sub$handle() {
        return sbc_sub.Linked.HANDLE;
    }

    public static int sbc_sub(MemorySegment a, MemorySegment b, long n, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_sub.Linked.HANDLE.invokeExact(a, b, n, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_mul {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_mul");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_mul$descriptor() {
        return sbc_mul.DESC;
    }

    public static MethodHandle sbc_mul$handle() {
        return sbc_mul.Linked.HANDLE;
    }

    public static int sbc_mul(MemorySegment a, MemorySegment b, long n, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_mul.Linked.HANDLE.invokeExact(a, b, n, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_div {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_div");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_div$descriptor() {
        return sbc_div.DESC;
    }

    public static MethodHandle sbc_div$handle() {
        return sbc_div.Linked.HANDLE;
    }

    public static int sbc_div(MemorySegment a, MemorySegment b, long n, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_div.Linked.HANDLE.invokeExact(a, b, n, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_scale {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_FLOAT, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_scale");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_scale$descriptor() {
        return sbc_scale.DESC;
    }

    public static MethodHandle sbc_scale$handle() {
        return sbc_scale.Linked.HANDLE;
    }

    public static int sbc_scale(MemorySegment x, long n, float s, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_scale.Linked.HANDLE.invokeExact(x, n, s, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_axpy {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_LONG, C_FLOAT, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_axpy");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_axpy$descriptor() {
        return sbc_axpy.DESC;
    }

    public static MethodHandle sbc_axpy$handle() {
        return sbc_axpy.Linked.HANDLE;
    }

    public static int sbc_axpy(long n, float alpha, MemorySegment x, MemorySegment y, MemorySegment stream) {
        try {
            return (int) sbc_axpy.Linked.HANDLE.invokeExact(n, alpha, x, y, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_sum {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_sum");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_sum$descriptor() {
        return sbc_sum.DESC;
    }

    public static MethodHandle sbc_sum$handle() {
        return sbc_sum.Linked.HANDLE;
    }

    public static int sbc_sum(MemorySegment x, long n, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_sum.Linked.HANDLE.invokeExact(x, n, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_dot {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_dot");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_dot$descriptor() {
        return sbc_dot.DESC;
    }

    public static MethodHandle sbc_dot$handle() {
        return sbc_dot.Linked.HANDLE;
    }

    public static int sbc_dot(MemorySegment a, MemorySegment b, long n, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_dot.Linked.HANDLE.invokeExact(a, b, n, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_count_nonfinite {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_count_nonfinite");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_count_nonfinite$descriptor() {
        return sbc_count_nonfinite.DESC;
    }

    public static MethodHandle sbc_count_nonfinite$handle() {
        return sbc_count_nonfinite.Linked.HANDLE;
    }

    public static int sbc_count_nonfinite(MemorySegment x, long n, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_count_nonfinite.Linked.HANDLE.invokeExact(x, n, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_row_norm {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_row_norm");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_row_norm$descriptor() {
        return sbc_row_norm.DESC;
    }

    public static MethodHandle sbc_row_norm$handle() {
        return sbc_row_norm.Linked.HANDLE;
    }

    public static int sbc_row_norm(MemorySegment x, long rows, long cols, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_row_norm.Linked.HANDLE.invokeExact(x, rows, cols, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_scale_rows {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_scale_rows");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_scale_rows$descriptor() {
        return sbc_scale_rows.DESC;
    }

    public static MethodHandle sbc_scale_rows$handle() {
        return sbc_scale_rows.Linked.HANDLE;
    }

    public static int sbc_scale_rows(
            MemorySegment x, long rows, long cols, MemorySegment s, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_scale_rows.Linked.HANDLE.invokeExact(x, rows, cols, s, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_scale_cols {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_scale_cols");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_scale_cols$descriptor() {
        return sbc_scale_cols.DESC;
    }

    public static MethodHandle sbc_scale_cols$handle() {
        return sbc_scale_cols.Linked.HANDLE;
    }

    public static int sbc_scale_cols(
            MemorySegment x, long rows, long cols, MemorySegment s, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_scale_cols.Linked.HANDLE.invokeExact(x, rows, cols, s, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_col_dot {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_col_dot");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_col_dot$descriptor() {
        return sbc_col_dot.DESC;
    }

    public static MethodHandle sbc_col_dot$handle() {
        return sbc_col_dot.Linked.HANDLE;
    }

    public static int sbc_col_dot(
            MemorySegment a, MemorySegment b, long rows, long cols, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_col_dot.Linked.HANDLE.invokeExact(a, b, rows, cols, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_transpose {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_transpose");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_transpose$descriptor() {
        return sbc_transpose.DESC;
    }

    public static MethodHandle sbc_transpose$handle() {
        return sbc_transpose.Linked.HANDLE;
    }

    public static int sbc_transpose(MemorySegment x, long rows, long cols, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_transpose.Linked.HANDLE.invokeExact(x, rows, cols, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_rmsnorm_forward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_LONG, C_LONG, C_FLOAT, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_rmsnorm_forward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_rmsnorm_forward$descriptor() {
        return sbc_rmsnorm_forward.DESC;
    }

    public static MethodHandle sbc_rmsnorm_forward$handle() {
        return sbc_rmsnorm_forward.Linked.HANDLE;
    }

    public static int sbc_rmsnorm_forward(
            MemorySegment x,
            MemorySegment w,
            long rows,
            long n,
            float eps,
            MemorySegment y,
            MemorySegment rstd,
            MemorySegment stream) {
        try {
            return (int) sbc_rmsnorm_forward.Linked.HANDLE.invokeExact(x, w, rows, n, eps, y, rstd, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_rmsnorm_backward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_rmsnorm_backward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_rmsnorm_backward$descriptor() {
        return sbc_rmsnorm_backward.DESC;
    }

    public static MethodHandle sbc_rmsnorm_backward$handle() {
        return sbc_rmsnorm_backward.Linked.HANDLE;
    }

    public static int sbc_rmsnorm_backward(
            MemorySegment x,
            MemorySegment w,
            MemorySegment rstd,
            MemorySegment dy,
            long rows,
            long n,
            MemorySegment dx,
            MemorySegment dw,
            MemorySegment stream) {
        try {
            return (int) sbc_rmsnorm_backward.Linked.HANDLE.invokeExact(x, w, rstd, dy, rows, n, dx, dw, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_rope {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_FLOAT, C_POINTER,
                C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_rope");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_rope$descriptor() {
        return sbc_rope.DESC;
    }

    public static MethodHandle sbc_rope$handle() {
        return sbc_rope.Linked.HANDLE;
    }

    public static int sbc_rope(
            MemorySegment x,
            long rows,
            long heads,
            long head_dim,
            MemorySegment positions,
            MemorySegment cos_table,
            MemorySegment sin_table,
            long max_pos,
            float sign,
            MemorySegment out,
            MemorySegment stream) {
        try {
            return (int) sbc_rope.Linked.HANDLE.invokeExact(
                    x, rows, heads, head_dim, positions, cos_table, sin_table, max_pos, sign, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_silu_mul_forward {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_silu_mul_forward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_silu_mul_forward$descriptor() {
        return sbc_silu_mul_forward.DESC;
    }

    public static MethodHandle sbc_silu_mul_forward$handle() {
        return sbc_silu_mul_forward.Linked.HANDLE;
    }

    public static int sbc_silu_mul_forward(
            MemorySegment g, MemorySegment u, long n, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_silu_mul_forward.Linked.HANDLE.invokeExact(g, u, n, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_silu_mul_backward {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_silu_mul_backward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_silu_mul_backward$descriptor() {
        return sbc_silu_mul_backward.DESC;
    }

    public static MethodHandle sbc_silu_mul_backward$handle() {
        return sbc_silu_mul_backward.Linked.HANDLE;
    }

    public static int sbc_silu_mul_backward(
            MemorySegment g,
            MemorySegment u,
            MemorySegment dout,
            long n,
            MemorySegment dg,
            MemorySegment du,
            MemorySegment stream) {
        try {
            return (int) sbc_silu_mul_backward.Linked.HANDLE.invokeExact(g, u, dout, n, dg, du, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_attention_forward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_LONG, C_LONG, C_LONG, C_FLOAT, C_POINTER,
                C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_attention_forward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_attention_forward$descriptor() {
        return sbc_attention_forward.DESC;
    }

    public static MethodHandle sbc_attention_forward$handle() {
        return sbc_attention_forward.Linked.HANDLE;
    }

    public static int sbc_attention_forward(
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
            MemorySegment lse,
            MemorySegment stream) {
        try {
            return (int) sbc_attention_forward.Linked.HANDLE.invokeExact(
                    q, k, v, batch, seq, heads, kv_heads, head_dim, scale, out, lse, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_attention_backward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_LONG, C_LONG,
                C_LONG, C_FLOAT, C_POINTER, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_attention_backward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_attention_backward$descriptor() {
        return sbc_attention_backward.DESC;
    }

    public static MethodHandle sbc_attention_backward$handle() {
        return sbc_attention_backward.Linked.HANDLE;
    }

    public static int sbc_attention_backward(
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
            MemorySegment dv,
            MemorySegment stream) {
        try {
            return (int) sbc_attention_backward.Linked.HANDLE.invokeExact(
                    q, k, v, out, lse, dout, batch, seq, heads, kv_heads, head_dim, scale, dq, dk, dv, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_cached_attention {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_LONG, C_LONG, C_LONG, C_LONG,
                C_FLOAT, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_cached_attention");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_cached_attention$descriptor() {
        return sbc_cached_attention.DESC;
    }

    public static MethodHandle sbc_cached_attention$handle() {
        return sbc_cached_attention.Linked.HANDLE;
    }

    public static int sbc_cached_attention(
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
            MemorySegment out,
            MemorySegment stream) {
        try {
            return (int) sbc_cached_attention.Linked.HANDLE.invokeExact(
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
                    out,
                    stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_cross_entropy_forward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_LONG, C_LONG, C_INT, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_cross_entropy_forward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_cross_entropy_forward$descriptor() {
        return sbc_cross_entropy_forward.DESC;
    }

    public static MethodHandle sbc_cross_entropy_forward$handle() {
        return sbc_cross_entropy_forward.Linked.HANDLE;
    }

    public static int sbc_cross_entropy_forward(
            MemorySegment logits,
            MemorySegment targets,
            long rows,
            long vocab,
            int ignore_index,
            MemorySegment loss,
            MemorySegment lse,
            MemorySegment stream) {
        try {
            return (int) sbc_cross_entropy_forward.Linked.HANDLE.invokeExact(
                    logits, targets, rows, vocab, ignore_index, loss, lse, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_cross_entropy_backward {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_LONG, C_INT, C_FLOAT, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_cross_entropy_backward");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_cross_entropy_backward$descriptor() {
        return sbc_cross_entropy_backward.DESC;
    }

    public static MethodHandle sbc_cross_entropy_backward$handle() {
        return sbc_cross_entropy_backward.Linked.HANDLE;
    }

    public static int sbc_cross_entropy_backward(
            MemorySegment logits,
            MemorySegment targets,
            MemorySegment lse,
            long rows,
            long vocab,
            int ignore_index,
            float scale,
            MemorySegment dlogits,
            MemorySegment stream) {
        try {
            return (int) sbc_cross_entropy_backward.Linked.HANDLE.invokeExact(
                    logits, targets, lse, rows, vocab, ignore_index, scale, dlogits, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_nf4_quantize {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_nf4_quantize");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_nf4_quantize$descriptor() {
        return sbc_nf4_quantize.DESC;
    }

    public static MethodHandle sbc_nf4_quantize$handle() {
        return sbc_nf4_quantize.Linked.HANDLE;
    }

    public static int sbc_nf4_quantize(
            MemorySegment x, long n, long block, MemorySegment packed, MemorySegment absmax, MemorySegment stream) {
        try {
            return (int) sbc_nf4_quantize.Linked.HANDLE.invokeExact(x, n, block, packed, absmax, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_nf4_dequantize {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_nf4_dequantize");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_nf4_dequantize$descriptor() {
        return sbc_nf4_dequantize.DESC;
    }

    public static MethodHandle sbc_nf4_dequantize$handle() {
        return sbc_nf4_dequantize.Linked.HANDLE;
    }

    public static int sbc_nf4_dequantize(
            MemorySegment packed,
            MemorySegment absmax,
            long start,
            long count,
            long block,
            MemorySegment out,
            MemorySegment stream) {
        try {
            return (int) sbc_nf4_dequantize.Linked.HANDLE.invokeExact(packed, absmax, start, count, block, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_adamw_step {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_FLOAT, C_FLOAT, C_FLOAT, C_FLOAT, C_FLOAT,
                C_FLOAT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_adamw_step");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_adamw_step$descriptor() {
        return sbc_adamw_step.DESC;
    }

    public static MethodHandle sbc_adamw_step$handle() {
        return sbc_adamw_step.Linked.HANDLE;
    }

    public static int sbc_adamw_step(
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
            float bias_correction2_sqrt,
            MemorySegment stream) {
        try {
            return (int) sbc_adamw_step.Linked.HANDLE.invokeExact(
                    p, g, m, v, n, beta1, beta2, eps, decay, step_size, bias_correction2_sqrt, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_convert {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_POINTER, C_INT, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_convert");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_convert$descriptor() {
        return sbc_convert.DESC;
    }

    public static MethodHandle sbc_convert$handle() {
        return sbc_convert.Linked.HANDLE;
    }

    public static int sbc_convert(
            MemorySegment x, int xtype, MemorySegment out, int otype, long n, MemorySegment stream) {
        try {
            return (int) sbc_convert.Linked.HANDLE.invokeExact(x, xtype, out, otype, n, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_fill_t {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG, C_FLOAT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_fill_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_fill_t$descriptor() {
        return sbc_fill_t.DESC;
    }

    public static MethodHandle sbc_fill_t$handle() {
        return sbc_fill_t.Linked.HANDLE;
    }

    public static int sbc_fill_t(MemorySegment x, int type, long n, float value, MemorySegment stream) {
        try {
            return (int) sbc_fill_t.Linked.HANDLE.invokeExact(x, type, n, value, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_binary_t {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER, C_INT, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_binary_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_binary_t$descriptor() {
        return sbc_binary_t.DESC;
    }

    public static MethodHandle sbc_binary_t$handle() {
        return sbc_binary_t.Linked.HANDLE;
    }

    public static int sbc_binary_t(
            int op, MemorySegment a, MemorySegment b, int type, long n, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_binary_t.Linked.HANDLE.invokeExact(op, a, b, type, n, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_scale_t {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG, C_FLOAT, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_scale_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_scale_t$descriptor() {
        return sbc_scale_t.DESC;
    }

    public static MethodHandle sbc_scale_t$handle() {
        return sbc_scale_t.Linked.HANDLE;
    }

    public static int sbc_scale_t(MemorySegment x, int type, long n, float s, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_scale_t.Linked.HANDLE.invokeExact(x, type, n, s, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_axpy_t {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_LONG, C_FLOAT, C_POINTER, C_INT, C_POINTER, C_INT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_axpy_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_axpy_t$descriptor() {
        return sbc_axpy_t.DESC;
    }

    public static MethodHandle sbc_axpy_t$handle() {
        return sbc_axpy_t.Linked.HANDLE;
    }

    public static int sbc_axpy_t(
            long n, float alpha, MemorySegment x, int xtype, MemorySegment y, int ytype, MemorySegment stream) {
        try {
            return (int) sbc_axpy_t.Linked.HANDLE.invokeExact(n, alpha, x, xtype, y, ytype, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_sum_t {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_sum_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_sum_t$descriptor() {
        return sbc_sum_t.DESC;
    }

    public static MethodHandle sbc_sum_t$handle() {
        return sbc_sum_t.Linked.HANDLE;
    }

    public static int sbc_sum_t(MemorySegment x, int type, long n, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_sum_t.Linked.HANDLE.invokeExact(x, type, n, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_count_nonfinite_t {
        static final FunctionDescriptor DESC =
                FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG, C_POINTER, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_count_nonfinite_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_count_nonfinite_t$descriptor() {
        return sbc_count_nonfinite_t.DESC;
    }

    public static MethodHandle sbc_count_nonfinite_t$handle() {
        return sbc_count_nonfinite_t.Linked.HANDLE;
    }

    public static int sbc_count_nonfinite_t(
            MemorySegment x, int type, long n, MemorySegment out, MemorySegment stream) {
        try {
            return (int) sbc_count_nonfinite_t.Linked.HANDLE.invokeExact(x, type, n, out, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_gather_cols_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_INT, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_gather_cols_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_gather_cols_t$descriptor() {
        return sbc_gather_cols_t.DESC;
    }

    public static MethodHandle sbc_gather_cols_t$handle() {
        return sbc_gather_cols_t.Linked.HANDLE;
    }

    public static int sbc_gather_cols_t(
            MemorySegment x,
            int type,
            long rows,
            long cols,
            long ldx,
            MemorySegment idx,
            long r,
            MemorySegment out,
            long ldo,
            MemorySegment stream) {
        try {
            return (int)
                    sbc_gather_cols_t.Linked.HANDLE.invokeExact(x, type, rows, cols, ldx, idx, r, out, ldo, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_gather_rows_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_INT, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_gather_rows_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_gather_rows_t$descriptor() {
        return sbc_gather_rows_t.DESC;
    }

    public static MethodHandle sbc_gather_rows_t$handle() {
        return sbc_gather_rows_t.Linked.HANDLE;
    }

    public static int sbc_gather_rows_t(
            MemorySegment x,
            int type,
            long rows,
            long cols,
            long ldx,
            MemorySegment idx,
            long r,
            MemorySegment out,
            long ldo,
            MemorySegment stream) {
        try {
            return (int)
                    sbc_gather_rows_t.Linked.HANDLE.invokeExact(x, type, rows, cols, ldx, idx, r, out, ldo, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_index_add_cols_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_INT, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_INT, C_LONG, C_FLOAT,
                C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_index_add_cols_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_index_add_cols_t$descriptor() {
        return sbc_index_add_cols_t.DESC;
    }

    public static MethodHandle sbc_index_add_cols_t$handle() {
        return sbc_index_add_cols_t.Linked.HANDLE;
    }

    public static int sbc_index_add_cols_t(
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
            float alpha,
            MemorySegment stream) {
        try {
            return (int) sbc_index_add_cols_t.Linked.HANDLE.invokeExact(
                    dst, dtype, rows, cols, ldd, idx, r, src, stype, lds, alpha, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_index_add_rows_t {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_POINTER, C_INT, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_INT, C_LONG, C_FLOAT,
                C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_index_add_rows_t");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_index_add_rows_t$descriptor() {
        return sbc_index_add_rows_t.DESC;
    }

    public static MethodHandle sbc_index_add_rows_t$handle() {
        return sbc_index_add_rows_t.Linked.HANDLE;
    }

    public static int sbc_index_add_rows_t(
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
            float alpha,
            MemorySegment stream) {
        try {
            return (int) sbc_index_add_rows_t.Linked.HANDLE.invokeExact(
                    dst, dtype, rows, cols, ldd, idx, r, src, stype, lds, alpha, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_gather_gemm {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_INT, C_POINTER, C_LONG, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_INT, C_LONG, C_FLOAT,
                C_POINTER, C_LONG, C_POINTER, C_LONG, C_INT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_gather_gemm");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_gather_gemm$descriptor() {
        return sbc_gather_gemm.DESC;
    }

    public static MethodHandle sbc_gather_gemm$handle() {
        return sbc_gather_gemm.Linked.HANDLE;
    }

    public static int sbc_gather_gemm(
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
            int kernel,
            MemorySegment stream) {
        try {
            return (int) sbc_gather_gemm.Linked.HANDLE.invokeExact(
                    type, x, m, ldx, idx, r, f, ldf, trans_f, n, alpha, c, ldc, xs, ldxs, kernel, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }

    private static final class sbc_gemm_scatter {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
                C_INT, C_INT, C_POINTER, C_LONG, C_LONG, C_LONG, C_POINTER, C_LONG, C_INT, C_POINTER, C_LONG, C_FLOAT,
                C_POINTER, C_LONG, C_INT, C_POINTER);

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {
            static final MemorySegment ADDR = findOrThrow("sbc_gemm_scatter");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor sbc_gemm_scatter$descriptor() {
        return sbc_gemm_scatter.DESC;
    }

    public static MethodHandle sbc_gemm_scatter$handle() {
        return sbc_gemm_scatter.Linked.HANDLE;
    }

    public static int sbc_gemm_scatter(
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
            int kernel,
            MemorySegment stream) {
        try {
            return (int) sbc_gemm_scatter.Linked.HANDLE.invokeExact(
                    type, a, m, kdim, lda, f, ldf, trans_f, idx, r, alpha, c, ldc, kernel, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex) {
            throw new AssertionError("should not reach here", ex);
        }
    }
}
