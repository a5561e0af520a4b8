package io.sbora4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Replaces a file atomically: readers see the old content or the complete new one, never a torn write, and a crash
 * leaves at worst a stray hidden temporary file, never a truncated target.
 */
public final class AtomicFiles {

    /** Writes the new content to an open channel. */
    @FunctionalInterface
    interface Content {
        void writeTo(FileChannel ch) throws IOException;
    }

    private AtomicFiles() {}

    /**
     * Writes {@code content} to a temporary file next to {@code target} (same directory, so same file system, so the
     * rename is atomic), forces it to disk, renames it over {@code target} and forces the directory entry.
     */
    static void write(Path target, Content content) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = createTemp(dir, abs.getFileName().toString());
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                content.writeTo(ch);
                ch.force(true); // data on disk before the rename makes it visible
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original failure is the one worth reporting
                }
            }
        }
        forceDirectory(dir);
    }

    /** Writes {@code text} as UTF-8 to {@code file} atomically, creating its folder if need be. */
    public static void writeString(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        write(file, ch -> writeFully(ch, bytes));
    }

    /** Writes all of {@code buf} at the channel's position. */
    static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Hidden, unique, created with default permissions (Files.createTempFile would make it owner-only). */
    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + name + "."
                    + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                        .close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt == 10) {
                    throw e;
                }
            }
        }
    }

    /** Makes the rename durable; some platforms cannot open a directory, and there it is the file system's job. */
    private static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // best effort: the file itself is complete and in place
        }
    }
}
