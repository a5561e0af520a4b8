package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.dist.Communicator;
import io.sbora4j.dist.LocalCommunicator;
import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.SafetensorsFile;
import io.sbora4j.tensor.Device;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code finetune} as two ranks on two threads: the adapter of one process at the global batch, written once. */
class FinetuneDataParallelTest {

    @TempDir
    Path dir;

    /** The exit codes and the two streams of each rank. */
    record Ranks(int[] codes, StringWriter[] outs, StringWriter[] errs) {}

    /** {@code sbora} with {@code args.apply(rank)} on two ranks, each on its own thread. */
    private static Ranks onTwoRanks(IntFunction<String[]> args) throws InterruptedException {
        List<Communicator> comms = LocalCommunicator.group(2);
        int[] codes = new int[2];
        StringWriter[] outs = {new StringWriter(), new StringWriter()}, errs = {new StringWriter(), new StringWriter()};
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            int rank = r;
            threads.add(Thread.ofPlatform().start(() -> {
                CommandLine cl = SboraCli.commandLine(comms.get(rank));
                cl.setOut(new PrintWriter(outs[rank], true));
                cl.setErr(new PrintWriter(errs[rank], true));
                codes[rank] = cl.execute(args.apply(rank));
            }));
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            assertFalse(t.isAlive(), "a rank hangs");
        }
        return new Ranks(codes, outs, errs);
    }

    @Test
    void aRankThatCannotStartStopsTheOther() throws Exception {
        TinyFinetune tiny = new TinyFinetune(dir);
        Path out = dir.resolve("out");
        Ranks ranks = onTwoRanks(rank -> rank == 1
                ? tiny.args(out, "--data", dir.resolve("missing.jsonl").toString())
                : tiny.args(out));
        assertEquals(1, ranks.codes()[0]);
        assertEquals(1, ranks.codes()[1]);
        String err0 = ranks.errs()[0].toString();
        assertTrue(
                err0.startsWith("sbora finetune (rank 0): rank 1 aborted the group (status 1): finetune failed: "),
                err0);
        assertTrue(err0.contains("missing.jsonl"), err0);
        assertEquals(1, err0.lines().count(), err0);
        assertTrue(ranks.errs()[1].toString().startsWith("sbora finetune (rank 1): "), ranks.errs()[1].toString());
    }

    @Test
    void twoRanksAtBatchOneWriteTheAdapterOfOneProcessAtBatchTwo() throws Exception {
        TinyFinetune tiny = new TinyFinetune(dir);
        Path single = dir.resolve("single"), parallel = dir.resolve("parallel");
        CliRun.Result one = CliRun.run(tiny.args(single, "--steps", "3", "--batch", "2"));
        assertEquals(0, one.code(), one.err());

        Ranks ranks = onTwoRanks(rank -> tiny.args(parallel, "--steps", "3", "--batch", "1"));
        int[] codes = ranks.codes();
        StringWriter[] outs = ranks.outs(), errs = ranks.errs();
        assertEquals(0, codes[0], errs[0].toString());
        assertEquals(0, codes[1], errs[1].toString());
        assertTrue(outs[0].toString().contains("3 steps of 1 x 2 sequences (2 ranks x batch 1)"), outs[0].toString());
        assertTrue(outs[0].toString().contains(" ms per step"), outs[0].toString());
        assertEquals("", outs[1].toString(), "rank 0 alone prints");

        // the run record holds the global batch, so both runs are the same run
        for (String f : List.of(AdapterFiles.CONFIG, AdapterFiles.RUN)) {
            assertArrayEquals(Files.readAllBytes(single.resolve(f)), Files.readAllBytes(parallel.resolve(f)), f);
        }
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile a = SafetensorsFile.open(single.resolve(AdapterFiles.WEIGHTS), arena);
            SafetensorsFile b = SafetensorsFile.open(parallel.resolve(AdapterFiles.WEIGHTS), arena);
            assertEquals(a.names(), b.names());
            for (String name : a.names()) {
                if (!a.tensor(name, arena, Device.CPU).dtype().isFloating()) {
                    continue; // SBoRA's indices: fixed by the seed
                }
                float[] x = a.tensor(name, arena, Device.CPU).toFloatArray();
                float[] y = b.tensor(name, arena, Device.CPU).toFloatArray();
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
