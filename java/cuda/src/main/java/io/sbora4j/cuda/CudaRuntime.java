package io.sbora4j.cuda;

import static io.sbora4j.cuda.ffi.sbora_cuda_h.SBC_OK;

import io.sbora4j.backend.natives.NativeLibraryException;
import io.sbora4j.cuda.ffi.CudaLibraries;
import io.sbora4j.cuda.ffi.sbora_cuda_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * Whether CUDA can be used in this process, and the error reporting of its calls: the kernel library must load,
 * the driver must report a GPU, and device 0 is selected.
 */
final class CudaRuntime {

    private CudaRuntime() {}

    private static final class Probe {
        static final String PROBLEM = probe();
        static final String DEVICE = PROBLEM == null ? deviceName() : null;
    }

    private static final class Stream {
        static final MemorySegment STREAM = create();

        private static MemorySegment create() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment holder = a.allocate(ValueLayout.ADDRESS);
                check(sbora_cuda_h.sbc_stream_create(holder), "cudaStreamCreate");
                return holder.get(ValueLayout.ADDRESS, 0);
            }
        }
    }

    /**
     * The stream every kernel, cuBLAS call and copy of this process goes to, in order: one stream keeps the
     * library's calls ordered without host synchronisation, and lets the memory pool reuse a freed block at once
     * (a later kernel on the same stream cannot overtake an earlier one). It is a blocking stream, so work a caller
     * puts on the legacy default stream is ordered with it too. Created on first use, once CUDA is usable.
     */
    static MemorySegment stream() {
        return Stream.STREAM;
    }

    /** Waits for everything queued on {@link #stream()}; an asynchronous kernel error surfaces here. */
    static void synchronize() {
        check(sbora_cuda_h.sbc_stream_synchronize(stream()), "cudaStreamSynchronize");
    }

    /** Why CUDA cannot be used, or empty when it can. */
    static Optional<String> problem() {
        return Optional.ofNullable(Probe.PROBLEM);
    }

    /** "NVIDIA H200 (sm_90)", once usable. */
    static String device() {
        return Probe.DEVICE;
    }

    private static String probe() {
        try {
            CudaLibraries.sboraCuda();
        } catch (NativeLibraryException e) {
            return e.getMessage();
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(ValueLayout.JAVA_INT);
            int status = sbora_cuda_h.sbc_device_count(n);
            if (status != SBC_OK) {
                return "no usable CUDA driver or GPU (" + errorString(status) + ")";
            }
            if (n.get(ValueLayout.JAVA_INT, 0) < 1) {
                return "the CUDA driver reports no GPU";
            }
            status = sbora_cuda_h.sbc_set_device(0);
            return status == SBC_OK ? null : "cannot select GPU 0 (" + errorString(status) + ")";
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return "libsbora_cuda.so cannot be used: " + e.getMessage();
        }
    }

    private static String deviceName() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(256);
            MemorySegment cap = a.allocate(ValueLayout.JAVA_INT);
            check(sbora_cuda_h.sbc_device_info(0, name, 256, cap), "sbc_device_info");
            int c = cap.get(ValueLayout.JAVA_INT, 0);
            return name.getString(0) + " (sm_" + c + ")";
        }
    }

    /** The CUDA error's name and description. */
    static String errorString(int status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(512);
            sbora_cuda_h.sbc_error_string(status, buf, 512);
            return buf.getString(0);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return "CUDA error " + status;
        }
    }

    /** Throws {@link CudaException} naming {@code function} and the error unless {@code status} is 0. */
    static void check(int status, String function) {
        if (status == sbora_cuda_h.SBC_ERR_INDEX) {
            throw new IndexOutOfBoundsException(function + ": " + errorString(status));
        }
        if (status != SBC_OK) {
            throw new CudaException(function + ": " + errorString(status));
        }
    }
}
