package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.io.SafetensorsWriter.FloatFormat;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A safetensors file changing while it is mapped: copies of its own that later changes cannot reach, a truncation
 * under a copy as an exception (only Java code reads the mapping here, so a regression is a failure, not a crash;
 * the native paths are tested in child JVMs by the CLI's tests), and the check for writes in place.
 */
class FileChangesTest {

    private static final int N = 64 * 1024; // elements per tensor: several pages each

    @TempDir
    Path dir;

    private Path write(String name, FloatFormat format) throws IOException {
        Path p = dir.resolve(name);
        try (Arena a = Arena.ofConfined()) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            for (String t : new String[] {"a", "b"}) {
                float[] v = new float[N];
                for (int i = 0; i < N; i++) {
                    v[i] = t.equals("a") ? i : -i;
                }
                m.put(t, Tensor.of(a, Device.CPU, v, 256, N / 256));
            }
            SafetensorsWriter.write(p, m, null, format);
        }
        // an old write time, so that a write in place right after shows even on a coarse file system clock
        Files.setLastModifiedTime(p, FileTime.from(Instant.now().minusSeconds(3600)));
        return p;
    }

    private static void truncate(Path p, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    @Test
    void readGivesMemoryOfItsOwnThatOutlivesTheFile() throws IOException {
        Path p = write("m.safetensors", FloatFormat.F32);
        try (Arena mapping = Arena.ofConfined();
                Arena target = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, mapping);
            Tensor view = f.tensor("b", mapping, Device.CPU);
            Tensor copy = f.read("b", target, Device.CPU);
            assertTrue(view.isMapped());
            assertFalse(copy.isMapped());
            assertFalse(copy.isReadOnly());
            assertArrayEquals(view.toFloatArray(), copy.toFloatArray());
            float[] before = copy.toFloatArray();
            truncate(p, 0);
            assertArrayEquals(before, copy.toFloatArray(), "the copy does not depend on the file");
        }
    }

    @Test
    void aTruncationUnderAReadIsAFormatErrorNamingFileAndTensor() throws IOException {
        for (FloatFormat format : new FloatFormat[] {FloatFormat.F32, FloatFormat.BF16}) {
            Path p = write("m-" + format + ".safetensors", format);
            try (Arena a = Arena.ofConfined()) {
                SafetensorsFile f = SafetensorsFile.open(p, a);
                f.read("a", a, Device.CPU);
                truncate(p, 4096); // the header and a little of "a" stay
                for (String name : new String[] {"a", "b"}) {
                    SafetensorsFormatException e = assertThrows(
                            SafetensorsFormatException.class, () -> f.read(name, a, Device.CPU), format + " " + name);
                    assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
                    assertTrue(e.getMessage().contains("'" + name + "'"), e.getMessage());
                    assertTrue(e.getMessage().contains("truncated or rewritten"), e.getMessage());
                }
            }
        }
    }

    @Test
    void aCopyOfATruncatedViewIsAnUncheckedIoErrorNotACrash() throws IOException {
        Path p = write("m.safetensors", FloatFormat.F32);
        try (Arena a = Arena.ofConfined()) {
            Tensor view = SafetensorsFile.open(p, a).tensor("b", a, Device.CPU);
            truncate(p, 0);
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> view.copyInto(a, Device.CPU));
            assertTrue(e.getMessage().contains("b "), e.getMessage());
            assertTrue(e.getMessage().contains("changed under it"), e.getMessage());
            Tensor target = Tensor.zeros(a, Device.CPU, view.shape().dims());
            assertThrows(UncheckedIOException.class, () -> target.copyFrom(view));
        }
    }

    @Test
    void requireUnchangedSeesWritesAndTruncationsInPlace() throws IOException {
        Path p = write("m.safetensors", FloatFormat.F32);
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, a);
            assertDoesNotThrow(f::requireUnchanged);
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), Files.size(p) - 4); // same size, new values
            }
            IOException e = assertThrows(IOException.class, f::requireUnchanged);
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("changed while it was being read"), e.getMessage());
        }
        p = write("t.safetensors", FloatFormat.F32);
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, a);
            truncate(p, 100);
            IOException e = assertThrows(IOException.class, f::requireUnchanged);
            assertTrue(e.getMessage().contains(" now"), e.getMessage());
        }
    }

    @Test
    void aFileReplacedOrDeletedUnderTheMappingIsNoChange() throws IOException {
        Path p = write("m.safetensors", FloatFormat.F32);
        Path other = write("other.safetensors", FloatFormat.BF16);
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, a);
            float[] before = f.tensor("b", a, Device.CPU).toFloatArray();
            Files.move(other, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            assertDoesNotThrow(f::requireUnchanged);
            assertArrayEquals(before, f.read("b", a, Device.CPU).toFloatArray(), "the mapping holds the old file");
            Files.delete(p);
            assertDoesNotThrow(f::requireUnchanged);
            assertArrayEquals(before, f.read("b", a, Device.CPU).toFloatArray());
        }
    }
}
