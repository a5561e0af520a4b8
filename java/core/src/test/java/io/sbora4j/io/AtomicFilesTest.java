package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writers replace their target whole or not at all, and clean up after themselves. */
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
}
