package io.sbora4j.cuda.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The NCCL functions data-parallel training needs, bound by hand from {@code nccl.h} (stable since NCCL 2.0): every
 * function returns an {@code ncclResult_t}, 0 on success. {@code ncclCommInitRank} takes the 128-byte
 * {@code ncclUniqueId} by value, which is why it has a struct layout and not a pointer.
 */
public final class Nccl {

    /** {@code ncclUniqueId}: {@code struct { char internal[128]; }}, passed by value. */
    public static final StructLayout UNIQUE_ID = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(128, JAVA_BYTE).withName("internal"));

    /** {@code ncclUint8}, {@code ncclFloat32}, {@code ncclFloat64} of {@code ncclDataType_t}. */
    public static final int UINT8 = 1, FLOAT32 = 7, FLOAT64 = 8;

    /** {@code ncclSum} of {@code ncclRedOp_t}. */
    public static final int SUM = 0;

    private final MethodHandle getVersion;
    private final MethodHandle getUniqueId;
    private final MethodHandle commInitRank;
    private final MethodHandle allReduce;
    private final MethodHandle broadcast;
    private final MethodHandle commDestroy;
    private final MethodHandle commAbort;
    private final MethodHandle getErrorString;

    private Nccl(SymbolLookup lib) {
        Linker l = Linker.nativeLinker();
        getVersion = l.downcallHandle(find(lib, "ncclGetVersion"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        getUniqueId = l.downcallHandle(find(lib, "ncclGetUniqueId"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        commInitRank = l.downcallHandle(
                find(lib, "ncclCommInitRank"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT));
        // (sendbuff, recvbuff, count, datatype, op, comm, stream)
        allReduce = l.downcallHandle(
                find(lib, "ncclAllReduce"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        // (sendbuff, recvbuff, count, datatype, root, comm, stream)
        broadcast = l.downcallHandle(
                find(lib, "ncclBroadcast"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        commDestroy = l.downcallHandle(find(lib, "ncclCommDestroy"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        commAbort = l.downcallHandle(find(lib, "ncclCommAbort"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        getErrorString = l.downcallHandle(find(lib, "ncclGetErrorString"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    private static final class Holder {
        static final Nccl INSTANCE = new Nccl(CudaLibraries.nccl());
    }

    /** The bound library; throws {@code NativeLibraryException} saying where NCCL was looked for. */
    public static Nccl get() {
        CudaLibraries.nccl(); // throws the reason before the holder's initialiser could fail with a bare Error
        return Holder.INSTANCE;
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new UnsatisfiedLinkError("NCCL has no symbol " + name));
    }

    public int getVersion(MemorySegment version) {
        return (int) invoke(getVersion, version);
    }

    public int getUniqueId(MemorySegment id) {
        return (int) invoke(getUniqueId, id);
    }

    public int commInitRank(MemorySegment comm, int nranks, MemorySegment id, int rank) {
        return (int) invoke(commInitRank, comm, nranks, id, rank);
    }

    public int allReduce(
            MemorySegment send,
            MemorySegment recv,
            long count,
            int type,
            int op,
            MemorySegment comm,
            MemorySegment st) {
        return (int) invoke(allReduce, send, recv, count, type, op, comm, st);
    }

    public int broadcast(
            MemorySegment send,
            MemorySegment recv,
            long count,
            int type,
            int root,
            MemorySegment comm,
            MemorySegment st) {
        return (int) invoke(broadcast, send, recv, count, type, root, comm, st);
    }

    public int commDestroy(MemorySegment comm) {
        return (int) invoke(commDestroy, comm);
    }

    public int commAbort(MemorySegment comm) {
        return (int) invoke(commAbort, comm);
    }

    /** NCCL's text for a result code. */
    public String errorString(int result) {
        MemorySegment s = (MemorySegment) invoke(getErrorString, result);
        return s.equals(MemorySegment.NULL)
                ? "NCCL error " + result
                : s.reinterpret(1024).getString(0);
    }

    private static Object invoke(MethodHandle h, Object... args) {
        try {
            return h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
