package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sbora4j.io.AdapterFiles;
import io.sbora4j.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune} in a JVM of its own, killed with SIGKILL at random points (while computing a step, while writing
 * a checkpoint or the adapter) and run again: every round ends with the adapter of the uninterrupted run, byte for
 * byte, and no JVM crashes. Rounds: {@code -Dsbora.kill.rounds} (3; 20 with {@code -Plong}), kills per round up to
 * {@code -Dsbora.kill.perRound} (1; 3 with {@code -Plong}), the random points from {@code -Dsbora.kill.seed}
 * (printed, to replay a failure). Also: a real file-size limit ({@code ulimit -f}) hit while writing a checkpoint is
 * one line of error and leaves the adapter there as it was.
 */
class FinetuneKillTest {

    private static final int STEPS = 6;
    private static final int ROUNDS = Integer.getInteger("sbora.kill.rounds", 3);
    private static final int MAX_KILLS = Integer.getInteger("sbora.kill.perRound", 1);
    private static final long SEED = Long.getLong("sbora.kill.seed", System.nanoTime());
    private static final long TIMEOUT_S = 120;

    @TempDir
    static Path tmp;

    static TinyFinetune tiny;
    static Path reference;

    @BeforeAll
    static void uninterruptedRun() throws IOException {
        tiny = new TinyFinetune(tmp);
        reference = tmp.resolve("reference");
        CliRun.Result r = CliRun.run(tiny.args(reference, "--steps", Integer.toString(STEPS)));
        assertEquals(0, r.code(), r.err());
    }

    /** The command that runs {@code sbora} in a new JVM like this one: same java, class path and flags. */
    private static List<String> sbora(String... args) {
        return ChildJvm.command(
                List.of(
                        "-Xss4m",
                        "-Dsbora.memory.poison=true",
                        "-XX:+UseSerialGC",
                        "-XX:TieredStopAtLevel=1",
                        "-XX:-UsePerfData"),
                SboraCli.class.getName(),
                List.of(args));
    }

    private static Process start(List<String> cmd, Path log, Path err) throws IOException {
        return new ProcessBuilder(cmd)
                .directory(tmp.toFile())
                .redirectOutput(log.toFile())
                .redirectError(err.toFile())
                .start();
    }

    private static int finish(Process p, Path log, Path err) throws Exception {
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail("finetune took over " + TIMEOUT_S + " s:\n" + Files.readString(log) + Files.readString(err));
        }
        return p.exitValue();
    }

    /** Waits until the child printed {@code marker} or exited; returns whether it is still running. */
    private static boolean awaitLine(Process p, Path log, String marker) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (p.isAlive() && System.nanoTime() < deadline) {
            if (Files.readString(log).contains(marker)) {
                return true;
            }
            Thread.sleep(2);
        }
        return p.isAlive();
    }

    /** Whether a kill left temporaries in {@code out} (it came in the middle of a write), for the summary. */
    private static boolean leftovers(Path out) throws IOException {
        if (!Files.exists(out)) {
            return false;
        }
        try (Stream<Path> walk = Files.walk(out)) {
            return walk.map(p -> p.getFileName().toString()).anyMatch(n -> n.contains(".tmp") || n.startsWith("."))
                    || Stream.of(".new", ".old")
                            .anyMatch(x -> Files.exists(out.resolveSibling("." + out.getFileName() + x)));
        }
    }

    @Test
    void killedAtRandomPointsThenResumedEndsWithTheUninterruptedAdapter() throws Exception {
        Random rnd = new Random(SEED);
        int kills = 0, finishedFirst = 0, runs = 0, midWriteKills = 0;
        List<String> points = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            Path out = tmp.resolve("round-" + round);
            String[] roundArgs = tiny.args(out, "--steps", Integer.toString(STEPS));
            int killsThisRound = 1 + rnd.nextInt(MAX_KILLS);
            // a run that finished before its kill point does not count: another point is drawn (a few times at most)
            boolean retry = false;
            for (int k = 0, killedThisRound = 0; killedThisRound < killsThisRound && k < 3 * killsThisRound; k++) {
                // after the line of step `after` (0: training started), plus up to 60 ms: inside a step, a
                // checkpoint save, the adapter save, or the exit
                int after = rnd.nextInt(retry ? STEPS : STEPS + 1); // a retry stops before the last step
                int extraMs = rnd.nextInt(60);
                Path log = tmp.resolve("round-" + round + "-kill-" + k + ".out");
                Path err = tmp.resolve("round-" + round + "-kill-" + k + ".err");
                Process p = start(sbora(roundArgs), log, err);
                runs++;
                boolean alive = awaitLine(p, log, after == 0 ? "examples, " : "step " + after + "/" + STEPS);
                if (alive) {
                    Thread.sleep(extraMs);
                }
                if (p.isAlive()) {
                    p.destroyForcibly(); // SIGKILL: no shutdown hook, no finally block runs
                    p.waitFor();
                    kills++;
                    killedThisRound++;
                    retry = false;
                    boolean midWrite = leftovers(out);
                    midWriteKills += midWrite ? 1 : 0;
                    points.add(String.format(
                            Locale.ROOT,
                            "r%d: step %d + %d ms%s",
                            round,
                            after,
                            extraMs,
                            midWrite ? " (mid-write)" : ""));
                } else {
                    assertEquals(0, p.exitValue(), Files.readString(log) + Files.readString(err));
                    finishedFirst++;
                    retry = true;
                }
            }
            Path log = tmp.resolve("round-" + round + ".out"), err = tmp.resolve("round-" + round + ".err");
            int code = finish(start(sbora(roundArgs), log, err), log, err);
            runs++;
            String why = "round " + round + " (seed " + SEED + ", kills at " + points + "):\n" + Files.readString(log)
                    + Files.readString(err);
            assertEquals(0, code, why);
            TinyFinetune.assertSameAdapter(reference, out);
            assertEquals(
                    List.of(AdapterFiles.CONFIG, AdapterFiles.WEIGHTS, "checkpoints", AdapterFiles.RUN),
                    TinyFinetune.names(out),
                    why);
            assertEquals(
                    List.of("checkpoint-" + (STEPS - 1), "checkpoint-" + STEPS, "latest"),
                    TinyFinetune.names(out.resolve("checkpoints")),
                    "no temporary left behind: " + why);
        }
        try (Stream<Path> s = Files.list(tmp)) {
            List<Path> crashes = s.filter(p -> p.getFileName().toString().startsWith("hs_err"))
                    .toList();
            assertEquals(List.of(), crashes, "no JVM crash");
        }
        assertEquals(
                List.of(),
                TinyFinetune.names(tmp).stream().filter(n -> n.startsWith(".")).toList());
        System.out.printf(
                Locale.ROOT,
                "kill/resume: %d rounds, %d runs, %d killed (%d of them mid-write: %s), %d finished before the kill,"
                        + " 0 crashes, every adapter bit-identical (seed %d)%n",
                ROUNDS,
                runs,
                kills,
                midWriteKills,
                String.join(", ", points),
                finishedFirst,
                SEED);
    }

    @Test
    void aFileSizeLimitHitWhileSavingIsOneLineAndKeepsTheAdapter() throws Exception {
        Path bash = Path.of("/bin/bash");
        assumeTrue(
                System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux") && Files.isExecutable(bash),
                "ulimit needs Linux and bash");
        Path out = TinyFinetune.copy(reference, tmp.resolve("ulimit"));
        // a limit below the size of the optimizer's moments: the first checkpoint cannot be written
        long moments = Files.size(reference.resolve("checkpoints/checkpoint-" + STEPS + "/optimizer.safetensors"));
        String ulimit = "ulimit -f " + (moments - 1) / 1024 + " && exec \"$@\"";
        List<String> cmd = new ArrayList<>(List.of(bash.toString(), "-c", ulimit, "bash"));
        cmd.addAll(sbora(tiny.args(out, "--steps", Integer.toString(STEPS), "--restart")));
        Path log = tmp.resolve("ulimit.out"), err = tmp.resolve("ulimit.err");
        int code = finish(start(cmd, log, err), log, err);
        String stderr = Files.readString(err);
        assertEquals(1, code, Files.readString(log) + stderr);
        assertEquals(1, stderr.strip().lines().count(), stderr);
        assertTrue(stderr.contains("writing the checkpoint of step 1 failed: File too large"), stderr);
        assertTrue(stderr.contains("no checkpoint was written yet"), stderr);
        TinyFinetune.assertSameAdapter(reference, out);
        assertEquals(List.of(), TinyFinetune.names(out.resolve("checkpoints")), "--restart deleted them; no temporary");
        CliRun.Result again = CliRun.run(tiny.args(out, "--steps", Integer.toString(STEPS)));
        assertEquals(0, again.code(), again.err());
        TinyFinetune.assertSameAdapter(reference, out);
    }
}
