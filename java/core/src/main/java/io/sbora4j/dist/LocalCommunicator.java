package io.sbora4j.dist;

import io.sbora4j.tensor.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Threads of one process as ranks: {@link #group} makes the communicators of a group, one per rank, each to be used
 * by its own thread. For tests of data-parallel training without MPI, and for embedders that train on several
 * threads.
 *
 * <p>Every collective is a rendezvous: each rank leaves its contribution and waits (no spinning) until all have;
 * the last one to arrive computes the result once, and every rank takes that same result. Sums therefore add the
 * ranks in order 0, 1, ..., n-1 and are bit-identical on all ranks. Ranks that call different collectives at the
 * same point, or all-reduce arrays of different lengths, abort the group instead of mixing them up.
 *
 * <p>{@link #abort} wakes every rank that waits in a collective and makes every later collective throw an
 * {@link AbortedException} naming the aborting rank and its reason; with a timeout, a rank that waits longer than it
 * for the others aborts the group, naming the ranks it waited for. Closing a rank while the others wait for it in a
 * collective aborts the group too, so that no rank waits forever.
 */
public final class LocalCommunicator implements Communicator {

    private final Group group;
    private final int rank;
    private boolean closed;

    private LocalCommunicator(Group group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    /** The {@code n} communicators of a new group, rank 0 first, with no timeout. */
    public static List<Communicator> group(int n) {
        return group(n, null);
    }

    /**
     * The {@code n} communicators of a new group, rank 0 first; a rank that waits longer than {@code timeout} (null:
     * forever) in a collective for the other ranks aborts the group.
     */
    public static List<Communicator> group(int n, Duration timeout) {
        if (n < 1) {
            throw new IllegalArgumentException("a group needs at least 1 rank, got " + n);
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        Group g = new Group(n, timeout);
        List<Communicator> out = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            out.add(new LocalCommunicator(g, r));
        }
        return List.copyOf(out);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return group.size;
    }

    /** Copies the tensor to the host on this rank's thread: its memory may be confined to this thread's arena. */
    @Override
    public void allReduceSum(Tensor t) {
        float[] sum = (float[]) collective("allReduceSum(f32)", t.toFloatArray(), LocalCommunicator::sumFloats);
        t.copyFrom(sum);
    }

    @Override
    public void allReduceSum(double[] values) {
        double[] sum = (double[]) collective("allReduceSum(f64)", values.clone(), LocalCommunicator::sumDoubles);
        System.arraycopy(sum, 0, values, 0, values.length);
    }

    @Override
    public byte[] broadcast(byte[] data, int root) {
        if (root < 0 || root >= group.size) {
            throw new IllegalArgumentException("broadcast root " + root + " out of range for " + group.size + " ranks");
        }
        if (rank == root && data == null) {
            throw new IllegalArgumentException("broadcast root " + root + " has no data (null)");
        }
        byte[] got = (byte[])
                collective("broadcast(root " + root + ")", rank == root ? data.clone() : null, slots -> slots[root]);
        return rank == root ? data : got.clone();
    }

    @Override
    public void barrier() {
        collective("barrier", null, slots -> Boolean.TRUE);
    }

    /** Marks the group aborted, wakes every waiting rank, and throws the {@link AbortedException} here too. */
    @Override
    public void abort(int code, String why) {
        String line = why == null ? "(no reason given)" : why.replace('\n', ' ').replace('\r', ' ');
        group.lock.lock();
        try {
            group.abortLocked(rank, code, line);
            throw group.aborted();
        } finally {
            group.lock.unlock();
        }
    }

    @Override
    public String describe() {
        return "threads of one process, rank " + rank + " of " + group.size;
    }

    /** Leaves the group; if other ranks wait for this one in a collective, the group is aborted. */
    @Override
    public void close() {
        group.lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            group.left[rank] = true;
            if (group.arrived > 0 && group.kinds[rank] == null) {
                group.abortLocked(
                        rank,
                        1,
                        "rank " + rank + " closed its communicator while the others wait in a" + " collective");
            }
        } finally {
            group.lock.unlock();
        }
    }

    /**
     * Leaves {@code contribution} in this rank's slot and waits for the result of the round, which the last rank to
     * arrive computes from all the slots with {@code combine}.
     */
    private Object collective(String kind, Object contribution, Function<Object[], Object> combine) {
        Group g = group;
        g.lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("rank " + rank + " used its communicator after closing it");
            }
            if (g.abort != null) {
                throw g.aborted();
            }
            for (int r = 0; r < g.size; r++) {
                if (g.left[r]) {
                    g.abortLocked(
                            rank,
                            1,
                            "rank " + rank + " entered " + kind + " after rank " + r + " closed its communicator");
                    throw g.aborted();
                }
            }
            g.slots[rank] = contribution;
            g.kinds[rank] = kind;
            long round = g.round;
            if (++g.arrived == g.size) {
                Object result;
                try {
                    result = combine.apply(sameKind(g));
                } catch (RuntimeException e) {
                    g.abortLocked(rank, 1, e.getMessage());
                    throw g.aborted();
                }
                g.result = result;
                Arrays.fill(g.slots, null);
                Arrays.fill(g.kinds, null);
                g.arrived = 0;
                g.round++;
                g.changed.signalAll();
                return result;
            }
            long left = g.timeoutNanos;
            while (g.round == round && g.abort == null) {
                if (g.timeoutNanos == 0) {
                    g.changed.await();
                } else if (left > 0) {
                    left = g.changed.awaitNanos(left);
                } else {
                    g.abortLocked(
                            rank,
                            1,
                            "rank " + rank + " waited more than " + seconds(g.timeoutNanos) + " in " + kind
                                    + " for rank(s) " + missing(g));
                }
            }
            // the next round cannot complete before this rank joins it, so g.result is still this round's
            if (g.round != round) {
                return g.result;
            }
            throw g.aborted();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            g.abortLocked(rank, 1, "rank " + rank + " was interrupted in " + kind);
            throw g.aborted();
        } finally {
            g.lock.unlock();
        }
    }

    /** The slots of a complete round, after checking that every rank called the same collective. */
    private static Object[] sameKind(Group g) {
        for (int r = 1; r < g.size; r++) {
            if (!g.kinds[r].equals(g.kinds[0])) {
                throw new IllegalStateException(
                        "ranks called different collectives: rank 0 " + g.kinds[0] + ", rank " + r + " " + g.kinds[r]);
            }
        }
        return g.slots.clone();
    }

    private static String missing(Group g) {
        StringBuilder b = new StringBuilder();
        for (int r = 0; r < g.size; r++) {
            if (g.kinds[r] == null) {
                b.append(b.isEmpty() ? "" : ", ").append(r);
            }
        }
        return b.toString();
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.3g s", nanos / 1e9);
    }

    /** Element-wise sum in rank order, so that every rank gets the same bits. */
    private static Object sumFloats(Object[] slots) {
        float[] first = (float[]) slots[0];
        float[] sum = first.clone();
        for (int r = 1; r < slots.length; r++) {
            float[] x = (float[]) slots[r];
            if (x.length != sum.length) {
                throw new IllegalArgumentException("allReduceSum of different lengths: rank 0 has " + sum.length
                        + " values, rank " + r + " " + x.length);
            }
            for (int i = 0; i < sum.length; i++) {
                sum[i] += x[i];
            }
        }
        return sum;
    }

    private static Object sumDoubles(Object[] slots) {
        double[] sum = ((double[]) slots[0]).clone();
        for (int r = 1; r < slots.length; r++) {
            double[] x = (double[]) slots[r];
            if (x.length != sum.length) {
                throw new IllegalArgumentException("allReduceSum of different lengths: rank 0 has " + sum.length
                        + " values, rank " + r + " " + x.length);
            }
            for (int i = 0; i < sum.length; i++) {
                sum[i] += x[i];
            }
        }
        return sum;
    }

    /** What the ranks of one group share; every field is guarded by {@link #lock}. */
    private static final class Group {
        final int size;
        final long timeoutNanos;
        final ReentrantLock lock = new ReentrantLock();
        final Condition changed = lock.newCondition();
        final Object[] slots;
        final String[] kinds;
        final boolean[] left;
        int arrived;
        long round;
        Object result;
        AbortedException abort;

        Group(int size, Duration timeout) {
            this.size = size;
            this.timeoutNanos = timeout == null ? 0 : Math.max(1, timeout.toNanos());
            this.slots = new Object[size];
            this.kinds = new String[size];
            this.left = new boolean[size];
        }

        /** The first abort wins: later ones (ranks failing because of it) do not replace its reason. */
        void abortLocked(int rank, int code, String why) {
            if (abort == null) {
                abort = new AbortedException(rank, code, why);
                changed.signalAll();
            }
        }

        /** A fresh exception (with this thread's stack) carrying the first abort's rank and reason. */
        AbortedException aborted() {
            AbortedException first = abort;
            return new AbortedException(first.abortingRank(), first.code(), first.why());
        }
    }
}
