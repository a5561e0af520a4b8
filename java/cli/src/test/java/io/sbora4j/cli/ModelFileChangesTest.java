package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.io.ModelFiles;
import io.sbora4j.io.ShardedSafetensors;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Device;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model file truncated or overwritten while a job runs: in child JVMs, so that a crash (SIGBUS in a native
 * kernel reading a mapping the file no longer backs) fails the test instead of killing the build. Every job either
 * runs unaffected or stops with a one-line error, and no JVM leaves an hs_err file.
 */
class ModelFileChangesTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final int STEPS = 120;

    @TempDir
    static Path tmp;

    private static Path base, other, data;
    private static String unchangedFinalLoss;

    @BeforeAll
    static void setUp() throws IOException {
        base = tmp.resolve("base");
        other = tmp.resolve("other");
        try (Arena arena = Arena.ofConfined()) {
            ModelFiles.save(LlamaModel.random(CFG, 1, Device.CPU, arena), base);
            ModelFiles.save(LlamaModel.random(CFG, 2, Device.CPU, arena), other);
        }
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            jsonl.append("{\"instruction\": \"What is ")
                    .append(i % 4)
                    .append(" + ")
                    .append(i / 4)
                    .append("?\", \"output\": \"")
                    .append(i % 4 + i / 4)
                    .append("\"}\n");
        }
        data = Files.writeString(tmp.resolve("sums.jsonl"), jsonl);
        CliRun.Result r =
                CliRun.run(finetuneArgs(base, tmp.resolve("unchanged")).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        unchangedFinalLoss = finalLoss(r.out());
    }

    private static List<String> finetuneArgs(Path model, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of(
                "finetune",
                "--model",
                model.toString(),
                "--data",
                data.toString(),
                "--method",
                "sbora-fa",
                "--r",
                "2",
                "--alpha",
                "4",
                "--lr",
                "1e-2",
                "--steps",
                Integer.toString(STEPS),
                "--batch",
                "2",
                "--seq-len",
                "32",
                "--template",
                "plain",
                "--tokenizer",
                "byte",
                "--checkpoint-every",
                "0",
                "--out",
                out.toString()));
        args.addAll(List.of(more));
        return args;
    }

    private static String finalLoss(String out) {
        return out.lines()
                .filter(l -> l.startsWith("final loss "))
                .map(l -> l.substring(0, l.indexOf(',')))
                .findFirst()
                .orElse("no final loss in:\n" + out);
    }

    /** What a child JVM printed and how it ended. */
    private record Child(int code, String out, String err, List<Path> crashFiles) {}

    /**
     * Runs {@code main} with {@code args} in a child JVM on this class path; when a line of its output starts with
     * {@code trigger}, runs {@code change} (once).
     */
    private static Child child(Path work, String main, List<String> args, String trigger, IoAction change)
            throws IOException, InterruptedException {
        Files.createDirectories(work);
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-XX:ErrorFile=" + work.resolve("hs_err_pid%p.log"),
                "-XX:-CreateCoredumpOnCrash",
                "-cp",
                System.getProperty("java.class.path"),
                main));
        cmd.addAll(args);
        Path err = work.resolve("stderr.txt");
        Process p = new ProcessBuilder(cmd)
                .directory(work.toFile())
                .redirectError(err.toFile())
                .start();
        StringBuilder out = new StringBuilder();
        boolean changed = false;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                out.append(line).append('\n');
                if (!changed && trigger != null && line.startsWith(trigger)) {
                    change.run();
                    changed = true;
                }
            }
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        List<Path> crashes;
        try (Stream<Path> files = Files.list(work)) {
            crashes = files.filter(f -> f.getFileName().toString().startsWith("hs_err"))
                    .toList();
        }
        Child c = new Child(p.exitValue(), out.toString(), Files.readString(err), crashes);
        assertTrue(trigger == null || changed, "the job never printed '" + trigger + "':\n" + c);
        assertEquals(List.of(), c.crashFiles(), "the JVM crashed:\n" + c);
        return c;
    }

    @FunctionalInterface
    private interface IoAction {
        void run() throws IOException;
    }

    private static Path copyOfBase(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        for (String f : List.of(ModelFiles.CONFIG, ShardedSafetensors.SINGLE_FILE)) {
            Files.copy(base.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    /** A finetune whose model file is changed once its first progress line is out: it ends as if nothing happened. */
    private static void finetuneUnaffected(String name, IoAction change, Path model, String... more)
            throws IOException, InterruptedException {
        Child c = child(
                tmp.resolve("run-" + name),
                SboraCli.class.getName(),
                finetuneArgs(model, tmp.resolve("adapter-" + name), more),
                "step ",
                change);
        assertEquals(0, c.code(), c.toString());
        if (more.length == 0) {
            assertEquals(unchangedFinalLoss, finalLoss(c.out()), c.toString());
        } else {
            assertTrue(c.out().contains("final loss "), c.toString());
        }
    }

    @Test
    void truncatingTheModelUnderAFinetuneLeavesItUnaffected() throws Exception {
        Path model = copyOfBase("truncated");
        finetuneUnaffected("truncated", () -> truncate(model.resolve(ShardedSafetensors.SINGLE_FILE), 0), model);
    }

    @Test
    void overwritingTheModelInPlaceUnderAFinetuneLeavesItUnaffected() throws Exception {
        Path model = copyOfBase("overwritten");
        Path weights = model.resolve(ShardedSafetensors.SINGLE_FILE);
        // as cp does: the same file (inode) truncated, then filled with another model's bytes
        finetuneUnaffected(
                "overwritten",
                () -> Files.write(weights, Files.readAllBytes(other.resolve(ShardedSafetensors.SINGLE_FILE))),
                model);
    }

    @Test
    void truncatingTheModelUnderAnNf4FinetuneLeavesItUnaffected() throws Exception {
        Path model = copyOfBase("nf4");
        finetuneUnaffected(
                "nf4", () -> truncate(model.resolve(ShardedSafetensors.SINGLE_FILE), 100), model, "--quantize", "nf4");
    }

    @Test
    void aModelTruncatedBeforeTheJobIsAOneLineError() throws Exception {
        Path model = copyOfBase("short");
        Path weights = model.resolve(ShardedSafetensors.SINGLE_FILE);
        truncate(weights, Files.size(weights) / 2);
        Child c = child(
                tmp.resolve("run-short"),
                SboraCli.class.getName(),
                finetuneArgs(model, tmp.resolve("adapter-short")),
                null,
                null);
        assertEquals(1, c.code(), c.toString());
        assertEquals(1, c.err().strip().lines().count(), "one line on stderr:\n" + c);
        assertTrue(c.err().startsWith("sbora finetune: " + weights), c.toString());
    }

    @Test
    void loadsUnderChangesFailCleanlyOrLoadOneWholeVersion() throws Exception {
        Path work = tmp.resolve("child");
        Child c = child(work, ChangingModelChild.class.getName(), List.of(work.toString(), "12"), null, null);
        System.out.print(c.out()); // what the loads met, for the test report
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.out().contains("all cases clean"), c.toString());
    }
}
