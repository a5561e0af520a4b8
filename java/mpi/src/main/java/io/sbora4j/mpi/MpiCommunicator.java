package io.sbora4j.mpi;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sbora4j.dist.Communicator;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The ranks of {@code MPI_COMM_WORLD}: this process and the others {@code mpirun} (or {@code mpiexec},
 * {@code srun}) started with it. Obtained from {@link Mpi#world()}, once per process.
 *
 * <p>Calls are serialised: MPI is initialised with {@code MPI_THREAD_SERIALIZED} and every collective holds a lock,
 * so that any thread may call, one at a time. Where the library provides only {@code MPI_THREAD_FUNNELED} or less,
 * only the thread that initialised MPI may call, and others get an {@link IllegalStateException}. Every MPI error
 * code (the world communicator returns them instead of aborting) becomes an {@link MpiException} naming the call,
 * the rank and {@code MPI_Error_string}'s text.
 *
 * <p>Ending: {@link #close()} ({@code MPI_Finalize}) when the run succeeded, {@link #abort} when this rank failed.
 * Nothing finalises MPI at exit by itself: {@code MPI_Finalize} waits for every other rank, so a rank leaving through
 * an exception would hang a shutdown hook (and with it the job) while the others wait in a collective for it; a
 * process that exits without finalising instead makes {@code mpirun} end the whole job with an error.
 */
public final class MpiCommunicator implements Communicator {

    /**
     * Parameters set in the process's environment before {@code MPI_Init}, unless the user set them: the JVM handles
     * SIGSEGV, SIGBUS and SIGFPE itself (implicit null checks, safepoints, stack banging), so no library may take them
     * over. Open MPI installs its stack-trace handler ({@code opal_signal}: SIGABRT, SIGBUS, SIGFPE, SIGSEGV) only on
     * signals without a handler, but an empty list keeps it off all of them; UCX (Open MPI's {@code pml ucx}, MPICH's
     * {@code ch4:ucx}) replaces the handlers of its {@code UCX_ERROR_SIGNALS} whatever was there.
     */
    static final Map<String, String> ENVIRONMENT = environment();

    /** The largest count one MPI call takes (its {@code count} is a C int); larger buffers go in chunks. */
    static final long MAX_COUNT = Integer.MAX_VALUE;

    private final MpiLibrary lib;
    private final int rank;
    private final int size;
    private final int threadLevel;
    private final boolean ownsInit;
    private final Thread initThread;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile boolean closed;

    private MpiCommunicator(MpiLibrary lib, int rank, int size, int threadLevel, boolean ownsInit, Thread initThread) {
        this.lib = lib;
        this.rank = rank;
        this.size = size;
        this.threadLevel = threadLevel;
        this.ownsInit = ownsInit;
        this.initThread = initThread;
    }

    private static Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("OMPI_MCA_opal_signal", "");
        env.put("UCX_ERROR_SIGNALS", "");
        return Map.copyOf(env);
    }

    /**
     * Initialises MPI in this process ({@code MPI_Init_thread}, asking for {@code MPI_THREAD_SERIALIZED}) unless
     * something else already did, and makes errors on the world communicator come back as codes.
     *
     * @throws MpiUnavailableException when MPI was finalised before, or its initialisation fails
     */
    static MpiCommunicator init(MpiLibrary lib) {
        if (lib.finalized()) {
            throw new MpiUnavailableException("MPI was finalized in this process; it cannot be initialised again");
        }
        boolean already = lib.initialized();
        int provided;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            if (already) {
                int rc = lib.queryThread(out);
                provided = rc == 0 ? out.get(JAVA_INT, 0) : 0;
            } else {
                ENVIRONMENT.forEach(Libc::setenvIfUnset);
                int rc = lib.initThread(MpiAbi.THREAD_SERIALIZED, out);
                if (rc != 0) {
                    throw new MpiUnavailableException("MPI_Init_thread failed: " + lib.errorString(rc));
                }
                provided = out.get(JAVA_INT, 0);
            }
            int rc = lib.setErrorsReturn();
            if (rc != 0) {
                throw new MpiUnavailableException("MPI_Comm_set_errhandler failed: " + lib.errorString(rc));
            }
            rc = lib.commRank(out);
            if (rc != 0) {
                throw new MpiUnavailableException("MPI_Comm_rank failed: " + lib.errorString(rc));
            }
            int rank = out.get(JAVA_INT, 0);
            rc = lib.commSize(out);
            if (rc != 0) {
                throw new MpiUnavailableException("MPI_Comm_size failed: " + lib.errorString(rc));
            }
            return new MpiCommunicator(lib, rank, out.get(JAVA_INT, 0), provided, !already, Thread.currentThread());
        }
    }

    // ---------------------------------------------------------------- what it is

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    /** The library's own description of itself ({@code MPI_Get_library_version}), all lines of it. */
    public String libraryVersion() {
        return lib.version();
    }

    /**
     * The thread level MPI provides: {@code 0} single, {@code 1} funneled, {@code 2} serialized (what this asks for),
     * {@code 3} multiple.
     */
    public int threadLevel() {
        return threadLevel;
    }

    /** {@code MPI_Wtime()}: seconds, on a clock that may differ between ranks. */
    public double wtime() {
        return lib.wtime();
    }

    @Override
    public String describe() {
        return "MPI (" + MpiAbi.shortVersion(lib.version()) + "), rank " + rank + " of " + size;
    }

    @Override
    public String toString() {
        return describe();
    }

    // ---------------------------------------------------------------- collectives

    /**
     * Sums an f32 tensor in host memory over all ranks, in place ({@code MPI_Allreduce} with {@code MPI_IN_PLACE},
     * in chunks of at most {@value Integer#MAX_VALUE} elements).
     *
     * @throws IllegalArgumentException when the tensor is not f32 or not in host memory (a GPU's: copy it to the
     *     host, or use NCCL)
     */
    @Override
    public void allReduceSum(Tensor t) {
        Objects.requireNonNull(t, "tensor");
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException("MPI sums f32 tensors; " + t.describe() + " is " + t.dtype());
        }
        if (!t.device().isHost()) {
            throw new IllegalArgumentException("MPI moves host memory; " + t.describe() + " is on device '"
                    + t.device().name() + "' (copy it to the host first, or use NCCL)");
        }
        t.requireWritable("an MPI all-reduce");
        // tensors hold native memory (Tensor.wrap takes nothing else): an address the GC does not move
        allReduceFloats(t.data(), t.numel(), MAX_COUNT);
    }

    /** {@code count} floats from the start of {@code data}, summed in place, at most {@code chunk} per call. */
    void allReduceFloats(MemorySegment data, long count, long chunk) {
        collective(() -> {
            for (long done = 0; done < count; ) {
                int n = (int) Math.min(count - done, chunk);
                check(
                        lib.allreduceFloatInPlace(data.asSlice(done * Float.BYTES, (long) n * Float.BYTES), n),
                        "MPI_Allreduce of " + count + " floats");
                done += n;
            }
        });
    }

    @Override
    public void allReduceSum(double[] values) {
        Objects.requireNonNull(values, "values");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(JAVA_DOUBLE, Math.max(1, values.length));
            MemorySegment.copy(values, 0, buf, JAVA_DOUBLE, 0, values.length);
            collective(() -> check(lib.allreduceDoubleInPlace(buf, values.length), "MPI_Allreduce of doubles"));
            MemorySegment.copy(buf, JAVA_DOUBLE, 0, values, 0, values.length);
        }
    }

    /**
     * Rank {@code root}'s bytes on every rank: their length first (8 bytes), then the bytes, in chunks of at most
     * {@value Integer#MAX_VALUE}. A {@code null} on the root is {@code null} everywhere.
     */
    @Override
    public byte[] broadcast(byte[] data, int root) {
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("broadcast root " + root + " out of range for " + size + " ranks");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment len = a.allocate(JAVA_LONG);
            if (rank == root) {
                len.set(JAVA_LONG, 0, data == null ? -1 : data.length);
            }
            collective(() -> check(lib.bcastBytes(len, Long.BYTES, root), "MPI_Bcast of the length"));
            long n = len.get(JAVA_LONG, 0);
            if (n < 0) {
                return null;
            }
            if (n > Integer.MAX_VALUE - 8) {
                throw new MpiException(
                        "rank " + rank + " was told of a broadcast of " + n + " bytes, more than a Java array holds",
                        0,
                        rank);
            }
            MemorySegment buf = a.allocate(Math.max(1, n));
            if (rank == root) {
                MemorySegment.copy(data, 0, buf, JAVA_BYTE, 0, data.length);
            }
            bcast(buf, n, root, MAX_COUNT);
            return buf.asSlice(0, n).toArray(JAVA_BYTE);
        }
    }

    /** {@code count} bytes from the start of {@code buf}, broadcast from {@code root}, {@code chunk} per call. */
    void bcast(MemorySegment buf, long count, int root, long chunk) {
        collective(() -> {
            for (long done = 0; done < count; ) {
                int n = (int) Math.min(count - done, chunk);
                check(lib.bcastBytes(buf.asSlice(done, n), n, root), "MPI_Bcast of " + count + " bytes");
                done += n;
            }
        });
    }

    @Override
    public void barrier() {
        collective(() -> check(lib.barrier(), "MPI_Barrier"));
    }

    /** Runs one MPI operation: on an open communicator, from an allowed thread, one at a time. */
    private void collective(Runnable op) {
        lock.lock();
        try {
            requireOpen();
            op.run();
        } finally {
            lock.unlock();
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("MPI was finalized on rank " + rank + "; no more collectives");
        }
        if (threadLevel < MpiAbi.THREAD_SERIALIZED && Thread.currentThread() != initThread) {
            throw new IllegalStateException("MPI here provides thread level " + threadLevel
                    + " (funneled or less): call it from the thread that initialised it (" + initThread.getName()
                    + "), not " + Thread.currentThread().getName());
        }
    }

    private void check(int rc, String what) {
        if (rc != 0) {
            throw new MpiException(what + " failed on rank " + rank + ": " + lib.errorString(rc), rc, rank);
        }
    }

    // ---------------------------------------------------------------- ending

    /**
     * Prints "rank R: why" to standard error, then ends every rank of the job with {@code MPI_Abort}. Takes no lock
     * (another thread may be blocked in a collective) and does not return: should the library return, the JVM halts
     * with {@code code}.
     */
    @Override
    public void abort(int code, String why) {
        System.out.flush();
        System.err.println("rank " + rank + ": " + oneLine(why));
        System.err.flush();
        if (!closed) {
            lib.abort(code);
        }
        Runtime.getRuntime().halt(code);
    }

    static String oneLine(String why) {
        if (why == null || why.isBlank()) {
            return "aborted";
        }
        return why.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    /** {@code MPI_Finalize}, once, from the thread that may call MPI; only if this communicator initialised MPI. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            requireOpen();
            closed = true;
            if (ownsInit && !lib.finalized()) {
                check(lib.finalizeMpi(), "MPI_Finalize");
            }
        } finally {
            lock.unlock();
        }
    }
}
