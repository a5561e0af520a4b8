package io.sbora4j.mpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sbora4j.testing.Mpirun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs of two JVMs started with {@code mpirun} (Open MPI's, or MPICH's Hydra), each running {@link MpiTestMain}: the
 * collectives sum and broadcast exactly; a rank killed with SIGKILL in the middle of an all-reduce, or a rank that
 * aborts, ends the whole job with a non-zero status within {@value #TIMEOUT_S} s, and no rank is left running. Skips
 * where no {@code mpirun} is on the PATH (CI installs {@code openmpi-bin}).
 */
@Tag("mpirun")
class MpiRunTest {

    private static final long TIMEOUT_S = 60;
    private static Mpirun mpirun;

    @TempDir
    Path tmp;

    @BeforeAll
    static void findMpirun() throws Exception {
        mpirun = Mpirun.findOrSkip();
    }

    private record Job(int code, String out, String err, List<Long> pids) {}

    /** {@code mpirun} with two ranks of {@link MpiTestMain} in {@code mode}, killed as a tree after the timeout. */
    private Job run(String mode) throws Exception {
        ProcessBuilder pb = mpirun.job(
                2,
                tmp,
                mode,
                List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xmx256m"),
                MpiTestMain.class.getName(),
                List.of(mode, tmp.toString()));
        Path out = tmp.resolve(mode + ".out"), err = tmp.resolve(mode + ".err");
        System.out.println("MpiRunTest: " + Mpirun.describe(pb));
        Process p = pb.start();
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
            pids(mode).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            fail("mpirun (" + mode + ") ran over " + TIMEOUT_S + " s:\n" + Files.readString(out)
                    + Files.readString(err));
        }
        return new Job(p.exitValue(), Files.readString(out), Files.readString(err), pids(mode));
    }

    private List<Long> pids(String mode) throws IOException {
        List<Long> pids = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            Path f = tmp.resolve("rank-" + r + ".pid");
            if (Files.exists(f)) {
                pids.add(Long.parseLong(Files.readString(f).strip()));
            }
        }
        return pids;
    }

    /** Every rank of the job has exited (some get a few seconds after {@code mpirun}'s SIGTERM); else kills them. */
    private static void assertNoRankLeft(Job job) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<Long> alive = job.pids();
        while (!alive.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            alive = alive.stream()
                    .filter(pid ->
                            ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                    .toList();
        }
        alive.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        assertEquals(List.of(), alive, "ranks still running 20 s after mpirun ended");
    }

    private void assertNoCrashFile() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(
                    List.of(),
                    s.filter(f -> f.getFileName().toString().startsWith("hs_err"))
                            .toList(),
                    "no JVM crash");
        }
    }

    @Test
    void collectivesSumAndBroadcastExactlyAndTheJvmKeepsItsSignals() throws Exception {
        Job job = run("collectives");
        String all = job.out() + job.err();
        assertEquals(0, job.code(), all);
        for (int r = 0; r < 2; r++) {
            assertTrue(job.out().contains("rank " + r + " ok: MPI ("), all);
            assertTrue(job.out().contains("rank " + r + " of 2"), all);
        }
        assertEquals(2, job.pids().size(), all);
        assertNoRankLeft(job);
        assertNoCrashFile();
    }

    @Test
    void aRankKilledInTheMiddleOfAnAllReduceEndsTheJob() throws Exception {
        long start = System.nanoTime();
        Job job = run("kill");
        String all = job.out() + job.err();
        assertNotEquals(0, job.code(), all);
        assertTrue(job.out().contains("rank 1: killing myself"), all);
        assertFalse(all.contains("all-reduce returned"), all);
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(TIMEOUT_S), all);
        assertNoRankLeft(job);
    }

    @Test
    void aRankThatAbortsEndsTheJobAndSaysWhy() throws Exception {
        Job job = run("throw");
        String all = job.out() + job.err();
        assertNotEquals(0, job.code(), all);
        assertTrue(job.err().contains("rank 1: the step failed on purpose"), all);
        assertFalse(all.contains("barrier returned"), all);
        assertNoRankLeft(job);
        assertNoCrashFile();
    }
}
