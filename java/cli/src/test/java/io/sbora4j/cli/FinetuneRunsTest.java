package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.io.AdapterFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune} knows the run its output belongs to: re-running into the same {@code --out} with other settings is
 * refused in one line naming them, the same settings resume (or take no step when done), {@code --restart} starts
 * over; a disk that fills up mid-run is one line and the run resumes to the same bits.
 */
class FinetuneRunsTest {

    @TempDir
    static Path tmp;

    static TinyFinetune tiny;
    static Path data, reference;

    static CliRun.Result finetune(Path out, String... extra) {
        return CliRun.run(tiny.args(out, extra));
    }

    @BeforeAll
    static void setUp() throws IOException {
        tiny = new TinyFinetune(tmp);
        data = tiny.data;
        reference = tmp.resolve("reference");
        CliRun.Result r = finetune(reference);
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
    }

    private static Path copy(Path from, Path to) throws IOException {
        return TinyFinetune.copy(from, to);
    }

    private static void assertSameAdapter(Path expected, Path out) throws IOException {
        TinyFinetune.assertSameAdapter(expected, out);
    }

    /** Exit code not 0, and exactly one line on stderr that contains every one of {@code parts}. */
    static void assertOneLineError(CliRun.Result r, String... parts) {
        assertNotEquals(0, r.code(), r.out());
        assertEquals(1, r.err().strip().lines().count(), "one line on stderr:\n" + r.err());
        for (String p : parts) {
            assertTrue(r.err().contains(p), "'" + p + "' in: " + r.err());
        }
    }

    @Test
    void theAdapterRecordsItsRun() throws IOException {
        String record = Files.readString(reference.resolve(AdapterFiles.RUN));
        for (String field : List.of(
                "\"method\" : \"sbora-fa\"",
                "\"alpha\" : \"4.0\"",
                "\"steps\" : \"4\"",
                "\"seq_len\" : \"64\"",
                "\"data\" : \"",
                "\"model\" : \"sha256 ")) {
            assertTrue(record.contains(field), field + " in " + record);
        }
    }

    @Test
    void reRunningAFinishedRunWithTheSameSettingsTakesNoStepAndKeepsTheAdapter() throws IOException {
        Path out = copy(reference, tmp.resolve("again"));
        CliRun.Result r = finetune(out);
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().contains("step 1/4"), r.out());
        assertSameAdapter(reference, out);
    }

    @Test
    void reRunningWithAnotherAlphaIsRefusedNamingIt() throws IOException {
        Path out = copy(reference, tmp.resolve("alpha"));
        CliRun.Result r = finetune(out, "--alpha", "8");
        assertOneLineError(r, "alpha: 4.0 -> 8.0", "--restart");
        assertFalse(r.err().contains("seed"), "only the fields that differ: " + r.err());
        assertSameAdapter(reference, out);
    }

    @Test
    void everyDifferenceIsNamedOldAndNew() throws IOException {
        Path out = copy(reference, tmp.resolve("many"));
        CliRun.Result r = finetune(out, "--r", "3", "--seq-len", "48", "--steps", "5", "--seed", "7");
        assertOneLineError(r, "r: 2 -> 3", "seq_len: 64 -> 48", "steps: 4 -> 5", "seed: 42 -> 7");
        assertSameAdapter(reference, out);
    }

    @Test
    void anAdapterWithoutCheckpointsIsComparedByItsOwnRecord() throws IOException {
        Path out = copy(reference, tmp.resolve("no-checkpoints"));
        deleteTree(out.resolve("checkpoints"));
        assertOneLineError(finetune(out, "--dropout", "0.1"), AdapterFiles.RUN, "dropout: 0.0 -> 0.1", "--restart");
        Files.delete(out.resolve(AdapterFiles.RUN));
        assertOneLineError(finetune(out), "no record of the run", "--restart");
    }

    @Test
    void changedDataIsRefused() throws IOException {
        Path out = copy(reference, tmp.resolve("data"));
        Path other = Files.writeString(
                tmp.resolve("other.jsonl"),
                Files.readString(data) + "{\"instruction\": \"1 + 1\", \"output\": \"2\"}\n");
        CliRun.Result r = CliRun.run(Arrays.stream(tiny.args(out))
                .map(a -> a.equals(data.toString()) ? other.toString() : a)
                .toArray(String[]::new));
        assertOneLineError(r, "data: " + Files.size(data) + " bytes", "-> " + Files.size(other) + " bytes");
    }

    @Test
    void restartStartsOverWithTheNewSettings() throws IOException {
        Path out = copy(reference, tmp.resolve("restart"));
        CliRun.Result r = finetune(out, "--alpha", "8", "--restart");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("step 1/4"), r.out());
        assertTrue(Files.readString(out.resolve(AdapterFiles.RUN)).contains("\"alpha\" : \"8.0\""));
        assertEquals(8.0, AdapterFiles.readConfig(out).alpha());
        assertTrue(Files.readString(out.resolve("checkpoints/checkpoint-4/trainer_state.json"))
                .contains("\"alpha\" : \"8.0\""));
        // and back: the old settings again, from scratch, give the old adapter bit for bit
        assertEquals(0, finetune(out, "--restart").code());
        assertSameAdapter(reference, out);
    }

    @Test
    void aDiskFullMidRunIsOneLineAndTheRunResumesToTheSameBits() throws Exception {
        Path out = tmp.resolve("full");
        // what one checkpoint writes: its files and latest (the first ones write a few bytes less: fewer losses)
        long perCheckpoint = Files.size(reference.resolve("checkpoints").resolve("latest"));
        try (Stream<Path> walk = Files.walk(reference.resolve("checkpoints").resolve("checkpoint-4"))) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                perCheckpoint += Files.size(p);
            }
        }
        CliRun.Result r;
        try (AutoCloseable ignored = diskFullAfter(2 * perCheckpoint + perCheckpoint / 2)) {
            r = finetune(out);
        }
        assertOneLineError(
                r,
                "writing the checkpoint of step 3 failed: No space left on device",
                "the last complete checkpoint is " + out.resolve("checkpoints").resolve("checkpoint-2"));
        CliRun.Result resumed = finetune(out);
        assertEquals(0, resumed.code(), resumed.err());
        assertFalse(resumed.out().contains("step 1/4"), "resumed at step 3: " + resumed.out());
        assertSameAdapter(reference, out);
    }

    /**
     * The core tests' full disk ({@code io.sbora4j.io.DiskFull}), which this module's tests compile without: its
     * package belongs to the core module, and the tests run on the class path.
     */
    static AutoCloseable diskFullAfter(long bytes) throws ReflectiveOperationException {
        return (AutoCloseable) Class.forName("io.sbora4j.io.DiskFull")
                .getMethod("after", long.class)
                .invoke(null, bytes);
    }

    static void deleteTree(Path p) throws IOException {
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted((a, b) -> b.compareTo(a)).toList()) {
                Files.delete(q);
            }
        }
    }
}
