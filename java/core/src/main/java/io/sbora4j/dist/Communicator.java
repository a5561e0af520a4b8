package io.sbora4j.dist;

import io.sbora4j.tensor.Tensor;

/**
 * A group of ranks that train one model together, data-parallel: each rank computes the gradients of its own shard
 * of every batch, and {@link #allReduceSum} makes them the gradients of the whole batch on every rank.
 *
 * <p>Implementations: {@link Communicator#single()} (one rank, every collective a no-op), {@code LocalCommunicator}
 * (threads of one process as ranks, for tests and for embedders), MPI across processes and nodes (module
 * {@code io.sbora4j.mpi}) and NCCL across GPUs (module {@code io.sbora4j.cuda}). Every collective must be called by
 * every rank in the same order; a rank that fails calls {@link #abort} so that no other rank waits forever.
 */
public interface Communicator extends AutoCloseable {

    /** This rank, 0 to {@code size() - 1}. */
    int rank();

    /** The number of ranks. */
    int size();

    /**
     * Sums an f32 tensor element-wise over all ranks, in place: afterwards every rank holds the same sum, bit for
     * bit. The tensor's device must be one this communicator moves (host memory for MPI and threads).
     */
    void allReduceSum(Tensor t);

    /** Sums {@code values} element-wise over all ranks, in place (losses, token counts, norms). */
    void allReduceSum(double[] values);

    /** Rank {@code root}'s {@code data}, on every rank (the argument of the other ranks is ignored and may be null). */
    byte[] broadcast(byte[] data, int root);

    /** Returns when every rank has called it. */
    void barrier();

    /**
     * Ends the whole group, on every rank, with exit status {@code code}: for a rank that cannot go on, so that the
     * others do not wait for it forever. {@code why} is one line, printed with this rank's number. Does not return
     * for process-based communicators.
     */
    void abort(int code, String why);

    /** What this is, in a few words: "MPI (Open MPI v4.1.4), rank 1 of 4". */
    String describe();

    /** Leaves the group (MPI_Finalize for MPI). Idempotent. */
    @Override
    void close();

    /** The communicator of a run that is not distributed: one rank, collectives are no-ops. */
    static Communicator single() {
        return SingleRank.INSTANCE;
    }
}
