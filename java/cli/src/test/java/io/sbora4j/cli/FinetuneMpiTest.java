package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.SafetensorsFile;
import io.sbora4j.tensor.Device;
import io.sbora4j.testing.Mpirun;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mpirun -np 2 sbora finetune}: two processes at {@code --batch 1} write the adapter one process writes at
 * {@code --batch 2}; a rank killed with SIGKILL in the middle of training ends the whole job with a non-zero status
 * within 60 s, naming the rank, and the last checkpoint resumes, here in one process at the same global batch, to the
 * adapter of the uninterrupted run. Skips where no {@code mpirun} is on the PATH (CI installs {@code openmpi-bin}).
 */
@Tag("mpirun")
class FinetuneMpiTest {

    private static final long TIMEOUT_S = 60;
    private static Mpirun mpirun;

    @TempDir
    Path dir;

    @BeforeAll
    static void findMpirun() throws Exception {
        mpirun = Mpirun.findOrSkip();
    }

    /** {@code mpirun -np 2} of the command line with {@code args}, started (output to files in {@code dir}). */
    private Process start(String name, String... args) throws IOException {
        return mpirun.job(
                        2,
                        dir,
                        name,
                        List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx512m"),
                        SboraCli.class.getName(),
                        List.of(args))
                .start();
    }

    private String output(String name) throws IOException {
        return Files.readString(dir.resolve(name + ".out")) + Files.readString(dir.resolve(name + ".err"));
    }

    /** Waits for the job; on a timeout kills it and everything it started, and fails. */
    private int await(Process p, String name) throws Exception {
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            List<ProcessHandle> tree = p.descendants().toList();
            tree.forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
            fail("mpirun ran over " + TIMEOUT_S + " s:\n" + output(name));
        }
        return p.exitValue();
    }

    @Test
    void twoProcessesAtBatchOneWriteTheAdapterOfOneAtBatchTwo() throws Exception {
        TinyFinetune tiny = new TinyFinetune(dir);
        Path single = dir.resolve("single"), parallel = dir.resolve("parallel");
        CliRun.Result one = CliRun.run(tiny.args(single, "--steps", "3", "--batch", "2"));
        assertEquals(0, one.code(), one.err());

        Process job = start("pair", tiny.args(parallel, "--steps", "3", "--batch", "1"));
        assertEquals(0, await(job, "pair"), output("pair"));
        String out = output("pair");
        assertTrue(out.contains("(2 ranks x batch 1)"), out);
        assertEquals(
                1, out.lines().filter(l -> l.contains("2 ranks x batch 1")).count(), "rank 0 alone prints: " + out);
        assertEquals(
                Files.readString(single.resolve(AdapterFiles.RUN)),
                Files.readString(parallel.resolve(AdapterFiles.RUN)));
        assertAdaptersClose(single, parallel);
    }

    @Test
    void aRankKilledMidTrainingEndsTheJobAndTheLastCheckpointResumes() throws Exception {
        TinyFinetune tiny = new TinyFinetune(dir);
        Path out = dir.resolve("out"), reference = dir.resolve("reference");
        String steps = "150";
        long start = System.nanoTime();
        Process job = start("killed", tiny.args(out, "--steps", steps, "--batch", "1"));
        Path latest = out.resolve("checkpoints").resolve("latest");
        while (!Files.exists(latest) && job.isAlive()) {
            Thread.sleep(20);
        }
        ProcessHandle rank1 = rank(job, 1);
        rank1.destroyForcibly(); // SIGKILL
        int code = await(job, "killed");
        String log = output("killed");
        assertNotEquals(0, code, log);
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(TIMEOUT_S), log);
        assertTrue(log.contains("rank 1"), "the job says which rank: " + log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (job.descendants().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(job.descendants().noneMatch(ProcessHandle::isAlive), "no rank is left running");

        // one process at the same global batch takes the run over from its last checkpoint
        CliRun.Result resumed = CliRun.run(tiny.args(out, "--steps", steps, "--batch", "2"));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(!resumed.out().contains("step 1/" + steps + " "), "resumed, not started over: " + resumed.out());
        CliRun.Result whole = CliRun.run(tiny.args(reference, "--steps", steps, "--batch", "2"));
        assertEquals(0, whole.code(), whole.err());
        assertAdaptersClose(reference, out);
    }

    /** The JVM of MPI rank {@code rank} among the processes {@code job} started. */
    private static ProcessHandle rank(Process job, int rank) throws IOException {
        for (ProcessHandle h : job.descendants().toList()) {
            Path environ = Path.of("/proc", Long.toString(h.pid()), "environ");
            try {
                String env = new String(Files.readAllBytes(environ));
                if (env.contains("\0OMPI_COMM_WORLD_RANK=" + rank + "\0")
                        || env.contains("\0PMI_RANK=" + rank + "\0")) {
                    return h;
                }
            } catch (IOException gone) {
                // a process that ended meanwhile
            }
        }
        throw new IOException(
                "no process of rank " + rank + " among " + job.descendants().toList());
    }

    /** Same tensors, each within 1e-5 of the other relative to its norm (the order of the sums differs). */
    private static void assertAdaptersClose(Path a, Path b) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile fa = SafetensorsFile.open(a.resolve(AdapterFiles.WEIGHTS), arena);
            SafetensorsFile fb = SafetensorsFile.open(b.resolve(AdapterFiles.WEIGHTS), arena);
            assertEquals(fa.names(), fb.names());
            for (String name : fa.names()) {
                if (!fa.tensor(name, arena, Device.CPU).dtype().isFloating()) {
                    continue;
                }
                float[] x = fa.tensor(name, arena, Device.CPU).toFloatArray();
                float[] y = fb.tensor(name, arena, Device.CPU).toFloatArray();
                double norm = 0, diff = 0;
                for (int i = 0; i < x.length; i++) {
                    norm += (double) x[i] * x[i];
                    diff += ((double) x[i] - y[i]) * ((double) x[i] - y[i]);
                }
                assertTrue(Math.sqrt(diff) <= 1e-5 * Math.sqrt(norm), name + ": " + Math.sqrt(diff / norm));
            }
        }
    }
}
