package io.sbora4j.cuda;

import io.sbora4j.cuda.ffi.Nccl;
import io.sbora4j.dist.Communicator;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Data-parallel collectives across GPUs over NCCL, bootstrapped through a host communicator (MPI across processes):
 * rank 0 draws NCCL's unique id, the host communicator broadcasts its 128 bytes, and every rank joins with it
 * ({@code ncclCommInitRank}, the id passed by value). Gradients on the GPU are summed by NCCL on the backend's one
 * stream, so no host copy and no synchronisation is added; host values (losses, token counts, configuration hashes)
 * and barriers go through the host communicator. Each process drives one GPU: the cuda backend selects the GPU of the
 * process's local rank (see {@code CudaRuntime}).
 */
public final class NcclCommunicator implements Communicator {

    private final Communicator host;
    private final Nccl nccl;
    private final MemorySegment comm;
    private boolean closed;

    private NcclCommunicator(Communicator host, Nccl nccl, MemorySegment comm) {
        this.host = host;
        this.nccl = nccl;
        this.comm = comm;
    }

    /**
     * Joins every rank of {@code host} into one NCCL communicator; a collective call, on every rank of {@code host}.
     *
     * @throws CudaException when NCCL fails, with its message and this rank
     */
    public static NcclCommunicator over(Communicator host) {
        CudaRuntime.problem().ifPresent(p -> {
            throw new CudaException("NCCL needs a usable GPU: " + p);
        });
        Nccl nccl = Nccl.get();
        byte[] id = null;
        try (Arena a = Arena.ofConfined()) {
            if (host.rank() == 0) {
                MemorySegment seg = a.allocate(Nccl.UNIQUE_ID);
                check(nccl, nccl.getUniqueId(seg), "ncclGetUniqueId", 0);
                id = seg.toArray(ValueLayout.JAVA_BYTE);
            }
            id = host.broadcast(id, 0);
            MemorySegment idSeg = a.allocate(Nccl.UNIQUE_ID);
            MemorySegment.copy(id, 0, idSeg, ValueLayout.JAVA_BYTE, 0, (int) Nccl.UNIQUE_ID.byteSize());
            MemorySegment holder = a.allocate(ValueLayout.ADDRESS);
            check(nccl, nccl.commInitRank(holder, host.size(), idSeg, host.rank()), "ncclCommInitRank", host.rank());
            return new NcclCommunicator(host, nccl, holder.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** NCCL's version, e.g. "2.21.5", or why NCCL cannot be used. */
    public static String version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            Nccl nccl = Nccl.get();
            check(nccl, nccl.getVersion(v), "ncclGetVersion", -1);
            int code = v.get(ValueLayout.JAVA_INT, 0); // 22105 = 2.21.5 since NCCL 2.9; 2708 = 2.7.8 before
            return code >= 10000
                    ? code / 10000 + "." + code / 100 % 100 + "." + code % 100
                    : code / 1000 + "." + code / 100 % 10 + "." + code % 100;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return "unavailable: " + e.getMessage();
        }
    }

    @Override
    public int rank() {
        return host.rank();
    }

    @Override
    public int size() {
        return host.size();
    }

    /** Sums a GPU tensor in place over all ranks; host tensors go through the host communicator. */
    @Override
    public void allReduceSum(Tensor t) {
        if (t.device().isHost()) {
            host.allReduceSum(t);
            return;
        }
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException("NCCL all-reduce takes f32 tensors, got " + t.describe());
        }
        requireOpen();
        MemorySegment p = t.data();
        check(
                nccl,
                nccl.allReduce(p, p, t.numel(), Nccl.FLOAT32, Nccl.SUM, comm, CudaRuntime.stream()),
                "ncclAllReduce",
                rank());
    }

    @Override
    public void allReduceSum(double[] values) {
        host.allReduceSum(values);
    }

    @Override
    public byte[] broadcast(byte[] data, int root) {
        return host.broadcast(data, root);
    }

    @Override
    public void barrier() {
        host.barrier();
    }

    /** Aborts NCCL's pending work (so no GPU kernel waits for a dead peer), then the host group. */
    @Override
    public void abort(int code, String why) {
        if (!closed) {
            closed = true;
            nccl.commAbort(comm);
        }
        host.abort(code, why);
    }

    @Override
    public String describe() {
        return "NCCL " + version() + " over " + host.describe();
    }

    /** Destroys the NCCL communicator; the host communicator stays open (its owner closes it). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            CudaRuntime.synchronize();
            nccl.commDestroy(comm);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the NCCL communicator is closed");
        }
    }

    private static void check(Nccl nccl, int result, String function, int rank) {
        if (result != 0) {
            throw new CudaException(
                    (rank >= 0 ? "rank " + rank + ": " : "") + function + ": " + nccl.errorString(result));
        }
    }
}
