package io.sbora4j.cuda;

import static io.sbora4j.cuda.ffi.sbora_cuda_h.SBC_OK;

import io.sbora4j.backend.natives.NativeLibraryException;
import io.sbora4j.cuda.ffi.CudaLibraries;
import io.sbora4j.cuda.ffi.sbora_cuda_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Whether CUDA can be used in this process, and the error reporting of its calls: the kernel library must load,
 * the driver must report a GPU, and one GPU is selected: the one named by {@value #DEVICE_PROPERTY}, else, in a
 * process started by an MPI launcher, its local rank modulo the GPUs it sees (one GPU per rank), else GPU 0.
 */
final class CudaRuntime {

    /** The GPU to use, by index, overriding the choice by local rank. */
    static final String DEVICE_PROPERTY = "sbora.cuda.device";

    /** Where MPI launchers and Slurm put the rank of a process among those of its node. */
    private static final String[] LOCAL_RANK_VARIABLES = {
        "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "LOCAL_RANK"
    };

    private CudaRuntime() {}

    /** The GPU this process drives, out of {@code count}; see the class comment. */
    static int chosenDevice(int count, UnaryOperator<String> env, String property) {
        if (property != null && !property.isBlank()) {
            int d = Integer.parseInt(property.strip());
            if (d < 0 || d >= count) {
                throw new IllegalArgumentException(
                        DEVICE_PROPERTY + "=" + d + " but the driver reports " + count + " GPU(s)");
            }
            return d;
        }
        for (String v : LOCAL_RANK_VARIABLES) {
            String local = env.apply(v);
            if (local != null && local.strip().matches("\\d{1,9}")) {
                return Integer.parseInt(local.strip()) % count;
            }
        }
        return 0;
    }

    private static final class Probe {
        static final String PROBLEM = probe();
        static final String DEVICE = PROBLEM == null ? deviceName() : null;
    }

    /** The GPU index {@link #probe} selected. */
    private static final class Selected {
        static int index;
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

    /**
     * Waits for everything queued on {@link #stream()}; an asynchronous kernel error surfaces here, and so does an
     * index out of range that a kernel met on the device (every host read of device data passes through here).
     *
     * @throws IndexOutOfBoundsException when a gather or scatter index, or a cross-entropy target, held on the GPU
     *     was out of range: that kernel and every index kernel queued after it did nothing
     */
    static void synchronize() {
        check(sbora_cuda_h.sbc_stream_synchronize(stream()), "cudaStreamSynchronize");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment raised = a.allocate(ValueLayout.JAVA_INT);
            check(sbora_cuda_h.sbc_take_index_fault(raised, stream()), "sbc_take_index_fault");
            if (raised.get(ValueLayout.JAVA_INT, 0) != 0) {
                throw new IndexOutOfBoundsException("a CUDA kernel read an index out of range from GPU memory (a gather"
                        + " or scatter index, or a cross-entropy target): the results computed since the last"
                        + " synchronisation are incomplete");
            }
        }
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
            int count = n.get(ValueLayout.JAVA_INT, 0);
            if (count < 1) {
                return "the CUDA driver reports no GPU";
            }
            int device;
            try {
                device = chosenDevice(count, System::getenv, System.getProperty(DEVICE_PROPERTY));
            } catch (NumberFormatException e) {
                return DEVICE_PROPERTY + " must be a GPU index, got '" + System.getProperty(DEVICE_PROPERTY) + "'";
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
            Selected.index = device;
            status = sbora_cuda_h.sbc_set_device(device);
            return status == SBC_OK ? null : "cannot select GPU " + device + " (" + errorString(status) + ")";
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return "libsbora_cuda.so cannot be used: " + e.getMessage();
        }
    }

    private static String deviceName() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(256);
            MemorySegment cap = a.allocate(ValueLayout.JAVA_INT);
            check(sbora_cuda_h.sbc_device_info(Selected.index, name, 256, cap), "sbc_device_info");
            int c = cap.get(ValueLayout.JAVA_INT, 0);
            return name.getString(0) + " (sm_" + c + ", GPU " + Selected.index + ")";
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
