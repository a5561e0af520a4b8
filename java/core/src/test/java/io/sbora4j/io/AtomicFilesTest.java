package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers replace their target whole or not at all, and clean up after themselves; a unit of files is replaced as one,
 * and every state a crash can leave is finished or undone by the next writer.
 */
class AtomicFilesTest {

    @TempDir
    Path dir;

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void replacesAnExistingTargetAndLeavesNoTemporaryFile() throws Exception {
        Path p = dir.resolve("m.safetensors");
        Files.write(p, new byte[10_000]);
        try (Arena a = Arena.ofConfined()) {
            SafetensorsWriter.write(p, Map.of("x", Tensor.of(a, Device.CPU, new float[] {1, 2}, 2)), null);
            assertEquals(List.of("m.safetensors"), files());
            assertArrayEquals(
                    new float[] {1, 2},
                    SafetensorsFile.open(p, a).tensor("x", a, Device.CPU).toFloatArray(),
                    0f);
        }
    }

    @Test
    void writesTextIntoAFolderItCreates() throws Exception {
        Path target = dir.resolve("new").resolve("report.md");
        AtomicFiles.writeString(target, "± µs\n");
        AtomicFiles.writeString(target, "second");
        assertEquals("second", Files.readString(target));
        try (Stream<Path> files = Files.list(target.getParent())) {
            assertEquals(List.of(target), files.toList());
        }
    }

    @Test
    void aFailedWriteKeepsTheOldTargetAndRemovesTheTemporaryFile() throws Exception {
        Path p = dir.resolve("target.bin");
        Files.write(p, new byte[] {1, 2, 3});
        IOException e = assertThrows(
                IOException.class,
                () -> AtomicFiles.write(p, ch -> {
                    AtomicFiles.writeFully(ch, ByteBuffer.wrap(new byte[] {9, 9}));
                    throw new IOException("disk full, say");
                }));
        assertEquals("disk full, say", e.getMessage());
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(p));
        assertEquals(List.of("target.bin"), files());
    }

    @Test
    void theNewFileGetsOrdinaryPermissions() throws Exception {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        Path plain = Files.write(dir.resolve("plain"), new byte[1]);
        Path atomic = dir.resolve("atomic");
        AtomicFiles.write(atomic, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(new byte[1])));
        // Files.createTempFile would have made it owner-only (0600), unlike every other file the user writes.
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(atomic));
    }

    @Test
    void invalidInputFailsBeforeTouchingTheDirectory() throws Exception {
        Path p = dir.resolve("m.safetensors");
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Tensor.of(a, Device.CPU, new float[] {1}, 1);
            assertThrows(
                    IllegalArgumentException.class,
                    () -> SafetensorsWriter.write(p, Map.of(SafetensorsHeader.METADATA_KEY, t), null));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> SafetensorsWriter.write(
                            p, Map.of("x", t), new HashMap<>(Collections.singletonMap("k", null))));
        }
        assertEquals(List.of(), files());
    }

    private static final Predicate<String> UNIT = n -> n.startsWith("unit");

    /** Writes the unit files {@code names} with {@code text} each into a folder. */
    private static AtomicFiles.FolderContent unit(String text, String... names) {
        return staging -> {
            for (String n : names) {
                AtomicFiles.writeString(staging.resolve(n), text);
            }
        };
    }

    private static String tree(Path root) throws IOException {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted().toList()) {
                b.append(root.relativize(p));
                if (Files.isRegularFile(p)) {
                    b.append('=').append(Files.readString(p));
                }
                b.append('\n');
            }
        }
        return b.toString();
    }

    @Test
    void aUnitIsReplacedWholeAndOtherEntriesStay() throws Exception {
        Path t = dir.resolve("t");
        AtomicFiles.replaceDirectory(t, UNIT, unit("old", "unit-a", "unit-b"));
        AtomicFiles.writeString(t.resolve("keep").resolve("x"), "kept");
        AtomicFiles.replaceDirectory(t, UNIT, unit("new", "unit-a", "unit-c"));
        assertEquals("\nkeep\nkeep/x=kept\nunit-a=new\nunit-c=new\n", tree(t), "unit-b went with the old unit");
        assertEquals(List.of("t"), files(), "no staging or old folder left");
    }

    @Test
    void aCrashBetweenTheTwoRenamesKeepsTheOldUnit() throws Exception {
        Path t = dir.resolve("t");
        AtomicFiles.replaceDirectory(t, UNIT, unit("old", "unit-a"));
        AtomicFiles.writeString(t.resolve("keep"), "kept");
        String before = tree(t);
        // the state after "rename t to .t.old" with the new unit complete in .t.new
        AtomicFiles.replaceDirectory(dir.resolve(".t.new"), UNIT, unit("new", "unit-a"));
        Files.move(t, dir.resolve(".t.old"));
        AtomicFiles.recoverDirectory(t, UNIT);
        assertEquals(before, tree(t));
        assertEquals(List.of("t"), files());
    }

    @Test
    void aCrashAfterTheSwapIsFinished() throws Exception {
        Path t = dir.resolve("t");
        AtomicFiles.replaceDirectory(t, UNIT, unit("old", "unit-a", "unit-b"));
        AtomicFiles.writeString(t.resolve("keep").resolve("x"), "kept");
        // the state after both renames, before the old folder's other entries moved across
        Files.move(t, dir.resolve(".t.old"));
        AtomicFiles.replaceDirectory(t, UNIT, unit("new", "unit-a"));
        assertEquals("\nkeep\nkeep/x=kept\nunit-a=new\n", tree(t));
        assertEquals(List.of("t"), files());
    }

    @Test
    void aStagingFolderThatWasNeverRenamedIsDeleted() throws Exception {
        Path t = dir.resolve("t");
        AtomicFiles.replaceDirectory(t, UNIT, unit("old", "unit-a"));
        Files.createDirectories(dir.resolve(".t.new"));
        Files.writeString(dir.resolve(".t.new").resolve("unit-a"), "ne"); // torn
        AtomicFiles.recoverDirectory(t, UNIT);
        assertEquals("\nunit-a=old\n", tree(t));
        assertEquals(List.of("t"), files());
    }

    @Test
    void aFullDiskAtAnyPointLeavesTheOldUnitWhole() throws Exception {
        Path t = dir.resolve("t");
        AtomicFiles.replaceDirectory(t, UNIT, unit("old", "unit-a", "unit-b"));
        AtomicFiles.writeString(t.resolve("keep"), "kept");
        String before = tree(t);
        String text = "0123456789".repeat(10);
        for (long limit = 0; limit < 2 * text.length(); limit += 7) {
            try (DiskFull ignored = DiskFull.after(limit)) {
                IOException e = assertThrows(
                        IOException.class, () -> AtomicFiles.replaceDirectory(t, UNIT, unit(text, "unit-a", "unit-b")));
                assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
                assertEquals(1, e.getMessage().lines().count());
            }
            assertEquals(before, tree(t), "after " + limit + " bytes");
            assertEquals(List.of("t"), files(), "no temporary left after " + limit + " bytes");
        }
        AtomicFiles.replaceDirectory(t, UNIT, unit(text, "unit-a", "unit-b"));
        assertEquals("\nkeep=kept\nunit-a=" + text + "\nunit-b=" + text + "\n", tree(t));
    }

    @Test
    void aFolderIsDeletedAsAWholeAndAnInterruptedDeletionIsFinished() throws Exception {
        Path t = dir.resolve("t");
        AtomicFiles.writeString(t.resolve("a").resolve("b"), "x");
        AtomicFiles.deleteDirectory(t);
        assertEquals(List.of(), files());
        AtomicFiles.deleteDirectory(t); // nothing there: nothing to do
        AtomicFiles.writeString(dir.resolve(".t.deleting").resolve("half"), "x"); // a crash mid-deletion
        AtomicFiles.recoverDirectory(t, UNIT);
        assertEquals(List.of(), files());
    }

    @Test
    void aUnitIsNotWrittenOverAFile() throws Exception {
        Path t = Files.writeString(dir.resolve("t"), "a file");
        IOException e =
                assertThrows(IOException.class, () -> AtomicFiles.replaceDirectory(t, UNIT, unit("x", "unit-a")));
        assertTrue(e.getMessage().contains("not a folder"), e.getMessage());
        assertEquals("a file", Files.readString(t));
        assertFalse(Files.exists(dir.resolve(".t.new")));
    }

    @Test
    void aLinkedFolderIsReplacedWhereItLiesAndTheLinkStays() throws Exception {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        Path real = dir.resolve("disk").resolve("t");
        AtomicFiles.replaceDirectory(real, UNIT, unit("old", "unit-a"));
        AtomicFiles.writeString(real.resolve("keep"), "kept");
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        AtomicFiles.replaceDirectory(link, UNIT, unit("new", "unit-a"));
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("\nkeep=kept\nunit-a=new\n", tree(real));
        try (Stream<Path> beside = Files.list(real.getParent())) {
            assertEquals(List.of(real), beside.toList(), "staged beside the real folder, nothing left");
        }
        AtomicFiles.deleteDirectory(link);
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("\n", tree(real), "emptied where it lies");
    }
}
