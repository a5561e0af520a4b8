package io.sbora4j.mpi;

import io.sbora4j.dist.Communicator;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One rank of the jobs {@link MpiRunTest} starts with {@code mpirun}: {@code collectives} checks every collective
 * and that the JVM still handles its own signals; {@code kill} has the last rank kill itself with SIGKILL while the
 * others wait in an all-reduce; {@code throw} has the last rank fail and abort while the others wait in a barrier.
 * Each rank writes its process id to {@code <dir>/rank-R.pid}, so that the test can check none is left over.
 */
public final class MpiTestMain {

    private MpiTestMain() {}

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Path dir = Path.of(args[1]);
        Communicator comm = Mpi.world();
        int rank = comm.rank(), size = comm.size();
        Files.writeString(
                dir.resolve("rank-" + rank + ".pid"),
                Long.toString(ProcessHandle.current().pid()));
        switch (mode) {
            case "collectives" -> collectives(comm, rank, size);
            case "kill" -> {
                comm.barrier();
                if (rank == size - 1) {
                    System.out.println("rank " + rank + ": killing myself");
                    System.out.flush();
                    Thread.sleep(300); // the others are in the all-reduce by now
                    new ProcessBuilder(
                                    "kill",
                                    "-9",
                                    Long.toString(ProcessHandle.current().pid()))
                            .inheritIO()
                            .start()
                            .waitFor();
                    Thread.sleep(60_000);
                }
                comm.allReduceSum(new double[] {1});
                System.out.println("rank " + rank + ": all-reduce returned without rank " + (size - 1));
            }
            case "throw" -> {
                comm.barrier();
                if (rank == size - 1) {
                    try {
                        throw new IllegalStateException("the step failed\non purpose");
                    } catch (IllegalStateException e) {
                        comm.abort(3, e.getMessage());
                    }
                }
                comm.barrier();
                System.out.println("rank " + rank + ": barrier returned without rank " + (size - 1));
            }
            default -> throw new IllegalArgumentException(mode);
        }
        comm.close();
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private static void collectives(Communicator comm, int rank, int size) {
        check(comm.describe().matches("MPI \\(.+\\), rank " + rank + " of " + size), comm.describe());
        check(Mpi.world() == comm, "one world");
        check(Mpi.libraryVersion().isPresent() && Mpi.unavailableReason().isEmpty(), "available");
        MpiCommunicator mpi = (MpiCommunicator) comm;
        double t0 = mpi.wtime();

        // f32 tensor: rank r holds i + r at i; the sum is n·i + n(n-1)/2, exact in f32 for these sizes
        int n = 100_003;
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (i % 1000) + rank;
        }
        Tensor t = Tensor.of(Device.CPU, values, n);
        comm.allReduceSum(t);
        float[] sum = t.toFloatArray();
        for (int i = 0; i < n; i++) {
            float want = size * (float) (i % 1000) + size * (size - 1) / 2f;
            check(sum[i] == want, "float sum at " + i + ": " + sum[i] + " != " + want);
        }
        // the same in chunks of 7 elements, as a tensor over 2^31 elements would go
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(ValueLayout.JAVA_FLOAT, 100);
            for (int i = 0; i < 100; i++) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * (rank + 1));
            }
            mpi.allReduceFloats(s, 100, 7);
            for (int i = 0; i < 100; i++) {
                float want = i * (size * (size + 1) / 2f);
                check(s.getAtIndex(ValueLayout.JAVA_FLOAT, i) == want, "chunked float sum at " + i);
            }
        }
        // a GPU tensor is refused on every rank alike, before any MPI call
        try {
            comm.allReduceSum(Tensor.ofInts(Device.CPU, new int[] {1}, 1));
            check(false, "an i32 tensor was accepted");
        } catch (IllegalArgumentException expected) {
            check(!expected.getMessage().contains("\n"), "one line: " + expected.getMessage());
        }

        double[] d = {0.5 * rank, 1e15 + rank, -rank, 3};
        comm.allReduceSum(d);
        double tri = size * (size - 1) / 2.0;
        check(Arrays.equals(d, new double[] {0.5 * tri, 1e15 * size + tri, 0.0 - tri, 3.0 * size}), Arrays.toString(d));
        double[] empty = {};
        comm.allReduceSum(empty);

        for (int root : new int[] {0, size - 1}) {
            for (int len : new int[] {0, 1, 1 << 20}) {
                byte[] mine = new byte[len];
                for (int i = 0; i < len; i++) {
                    mine[i] = (byte) (i * 31 + root + len);
                }
                byte[] got = comm.broadcast(rank == root ? mine : null, root);
                check(Arrays.equals(got, mine), "broadcast of " + len + " bytes from " + root);
            }
            check(comm.broadcast(null, root) == null, "null from the root is null everywhere");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(1000);
            if (rank == 0) {
                for (int i = 0; i < 1000; i++) {
                    s.set(ValueLayout.JAVA_BYTE, i, (byte) i);
                }
            }
            mpi.bcast(s, 1000, 0, 64);
            for (int i = 0; i < 1000; i++) {
                check(s.get(ValueLayout.JAVA_BYTE, i) == (byte) i, "chunked broadcast at " + i);
            }
        }
        try {
            comm.broadcast(new byte[1], size);
            check(false, "root out of range accepted");
        } catch (IllegalArgumentException expected) {
            // every rank checks the root before any MPI call
        }
        comm.barrier();

        // the JVM's own signals still work with MPI initialised: implicit null checks (SIGSEGV) in compiled code,
        // and collections that move every object
        int npes = survivesNullPointers();
        List<byte[]> garbage = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            garbage.add(new byte[10_000]);
            if (garbage.size() > 200) {
                garbage.clear();
            }
        }
        System.gc();
        double[] after = {1};
        comm.allReduceSum(after);
        check(after[0] == size, "all-reduce after the GC");
        check(mpi.wtime() >= t0, "MPI_Wtime goes forward");
        comm.barrier();
        System.out.println("rank " + rank + " ok: " + comm.describe() + ", thread level " + mpi.threadLevel() + ", "
                + npes + " null pointers caught");
    }

    private static final class Box {
        int value;
    }

    /** Many NullPointerExceptions, thrown by compiled code through its implicit null checks: the SIGSEGV path. */
    private static int survivesNullPointers() {
        Box[] boxes = new Box[64];
        for (int i = 0; i < boxes.length; i += 2) {
            boxes[i] = new Box();
        }
        int caught = 0;
        long sum = 0;
        for (int round = 0; round < 200_000; round++) {
            try {
                sum += read(boxes[round & 63]);
            } catch (NullPointerException e) {
                caught++;
            }
        }
        check(caught == 100_000, "caught " + caught + " (sum " + sum + ")");
        return caught;
    }

    private static int read(Box b) {
        return b.value;
    }
}
