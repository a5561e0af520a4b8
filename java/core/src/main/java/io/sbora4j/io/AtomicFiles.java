package io.sbora4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Durable, atomic file and folder replacement: readers see the old content or the complete new one, never a torn
 * write, and a crash (a kill, a power cut) leaves at worst a stray temporary that the next writer removes.
 *
 * <p>Every file is forced to disk before the rename that makes it visible, and every rename, creation and deletion of
 * a directory entry is followed by forcing that directory. A set of files that belongs together (an adapter's weights
 * and config, a model's weights and config) is written as one unit with {@link #replaceDirectory}: into a staging
 * folder that is renamed into place, so a crash never leaves one file of the new pair beside one of the old.
 */
public final class AtomicFiles {

    /** Writes the new content to an open channel. */
    @FunctionalInterface
    interface Content {
        void writeTo(FileChannel ch) throws IOException;
    }

    /** Fills a staging folder with the files of a unit. */
    @FunctionalInterface
    public interface FolderContent {
        /** Writes the unit's files into {@code staging}, an empty folder on the target's file system. */
        void writeInto(Path staging) throws IOException;
    }

    /**
     * Fault injection for tests (a full disk): bytes {@link #writeFully} may still write before it fails as a full
     * disk would; negative for no limit. Package-private: set through the tests' helper in this package.
     */
    static final AtomicLong WRITE_BUDGET = new AtomicLong(-1);

    private static final String NEW = ".new";
    private static final String OLD = ".old";
    private static final String DELETING = ".deleting";

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
        syncDirectory(dir);
    }

    /** Writes {@code text} as UTF-8 to {@code file} atomically and durably, creating its folder if need be. */
    public static void writeString(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            createDirectories(dir);
        }
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        write(file, ch -> writeFully(ch, bytes));
    }

    /** Writes all of {@code buf} at the channel's position. */
    static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        long budget = WRITE_BUDGET.get();
        if (budget >= 0) {
            int allowed = (int) Math.min(buf.remaining(), budget);
            WRITE_BUDGET.addAndGet(-allowed);
            if (allowed < buf.remaining()) {
                ByteBuffer part = buf.slice().limit(allowed);
                while (part.hasRemaining()) {
                    ch.write(part);
                }
                throw new IOException("No space left on device (injected after " + budget + " more bytes)");
            }
        }
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Creates {@code dir} and any missing parents, forcing each new entry into its parent directory. */
    public static void createDirectories(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        List<Path> missing = new ArrayList<>();
        for (Path p = abs; p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.add(p);
        }
        Files.createDirectories(abs);
        for (Path p : missing.reversed()) {
            syncDirectory(p.getParent());
        }
    }

    /**
     * Renames {@code from} to {@code to} atomically (same file system; {@code to} must not be a non-empty directory)
     * and forces both parent directories.
     */
    public static void move(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(to.toAbsolutePath().getParent());
        Path fromParent = from.toAbsolutePath().getParent();
        if (!fromParent.equals(to.toAbsolutePath().getParent())) {
            syncDirectory(fromParent);
        }
    }

    /**
     * Deletes the folder {@code dir} and everything in it: renamed aside first (one atomic step, so it is gone as a
     * whole or there as a whole), then removed. A crash in between leaves {@code .<name>.deleting}, which
     * {@link #recoverDirectory} removes. Nothing to do when it does not exist. A symbolic link stays, and the folder
     * it points to is left empty.
     */
    public static void deleteDirectory(Path dir) throws IOException {
        Path abs = resolveLink(dir);
        if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path aside = sibling(abs, DELETING);
        deleteTree(aside);
        move(abs, aside);
        if (!abs.equals(dir.toAbsolutePath())) {
            Files.createDirectory(abs); // the link's target again, empty
        }
        deleteTree(aside);
        syncDirectory(abs.getParent());
    }

    /**
     * Replaces the unit of files in {@code target} with the one {@code content} writes, as one step: the new files
     * go into a staging folder {@code .<name>.new} beside it, forced to disk, which is renamed into place. An existing
     * {@code target} is first renamed aside to {@code .<name>.old}; entries of it that the unit does not
     * {@code own} (say, a {@code checkpoints/} folder inside an adapter folder) are then moved into the new one, and
     * the old one is deleted. A crash at any point leaves the old unit or the new one, whole, under {@code target},
     * or in its recoverable place: {@link #recoverDirectory} (called first here) finishes or undoes the swap.
     */
    public static void replaceDirectory(Path target, Predicate<String> owned, FolderContent content)
            throws IOException {
        Path abs = resolveLink(target);
        recoverDirectory(abs, owned);
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(abs)) {
            throw new IOException(abs + " exists and is not a folder");
        }
        createDirectories(abs.getParent());
        Path staging = sibling(abs, NEW);
        Files.createDirectory(staging);
        syncDirectory(abs.getParent());
        try {
            content.writeInto(staging);
            syncTree(staging);
        } catch (IOException | RuntimeException | Error e) {
            try {
                deleteTree(staging);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            move(staging, abs);
            return;
        }
        Path old = sibling(abs, OLD);
        move(abs, old);
        move(staging, abs);
        finishSwap(abs, old, owned);
    }

    /**
     * Completes or undoes a {@link #replaceDirectory} or {@link #deleteDirectory} of {@code target} that a crash
     * interrupted: with the old unit aside and no new one in place, the old one is put back; with the new one in
     * place, the old one's other entries are moved in and the rest is deleted; a staging folder that was never
     * renamed into place is deleted. Nothing to do (and nothing written) when there are no leftovers.
     */
    public static void recoverDirectory(Path target, Predicate<String> owned) throws IOException {
        Path abs = resolveLink(target);
        Path staging = sibling(abs, NEW), old = sibling(abs, OLD), deleting = sibling(abs, DELETING);
        if (Files.exists(old, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
                finishSwap(abs, old, owned);
            } else {
                move(old, abs); // the crash came between the two renames: the old unit is whole, keep it
            }
        }
        if (Files.exists(staging, LinkOption.NOFOLLOW_LINKS)) {
            deleteTree(staging);
            syncDirectory(abs.getParent());
        }
        if (Files.exists(deleting, LinkOption.NOFOLLOW_LINKS)) {
            deleteTree(deleting);
            syncDirectory(abs.getParent());
        }
    }

    /**
     * Where a reader finds the unit of {@code target} without writing anything (a read-only command must work on a
     * read-only file system): {@code target} itself, except when a {@link #replaceDirectory} was interrupted between
     * its two renames, which leaves no {@code target} and the old unit, whole, in {@code .<name>.old}. Writers call
     * {@link #recoverDirectory} instead, which puts it back.
     */
    public static Path unitToRead(Path target) throws IOException {
        Path abs = resolveLink(target);
        Path old = sibling(abs, OLD);
        if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS) && Files.isDirectory(old, LinkOption.NOFOLLOW_LINKS)) {
            return old;
        }
        return target;
    }

    /** With the new unit in {@code target}: moves the entries of {@code old} it does not own across, deletes the rest. */
    private static void finishSwap(Path target, Path old, Predicate<String> owned) throws IOException {
        boolean carried = false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(old)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                Path dest = target.resolve(name);
                if (!owned.test(name) && !Files.exists(dest, LinkOption.NOFOLLOW_LINKS)) {
                    Files.move(p, dest, StandardCopyOption.ATOMIC_MOVE);
                    carried = true;
                }
            }
        }
        if (carried) {
            syncDirectory(target);
            syncDirectory(old);
        }
        deleteTree(old);
        syncDirectory(target.getParent());
    }

    /** {@code p} made absolute; for a symbolic link, the folder it points to (the one to replace, beside which to stage). */
    private static Path resolveLink(Path p) throws IOException {
        Path abs = p.toAbsolutePath();
        if (Files.isSymbolicLink(abs) && Files.exists(abs)) {
            return abs.toRealPath();
        }
        return abs;
    }

    /** {@code .<name><suffix>} beside {@code p}. */
    private static Path sibling(Path p, String suffix) {
        return p.resolveSibling("." + p.getFileName() + suffix);
    }

    /** Deletes {@code p} and everything under it; nothing when it does not exist. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        } catch (NoSuchFileException gone) {
            // removed meanwhile: what was asked for
        }
    }

    /** Forces every directory under {@code root} (files are forced by their writers), deepest first. */
    public static void syncTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path d : walk.filter(Files::isDirectory)
                    .sorted(Comparator.reverseOrder())
                    .toList()) {
                syncDirectory(d);
            }
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

    /**
     * Forces the entries of directory {@code dir} (creations, renames, deletions) to disk; some platforms cannot open
     * a directory, and there it is the file system's job.
     */
    public static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // best effort: the entries are in place, only their durability is the file system's
        }
    }

    /** Whether {@code name} is a temporary {@link #write} leaves behind when killed mid-write. */
    public static boolean isLeftoverTemporary(String name) {
        return name.startsWith(".") && name.endsWith(".tmp");
    }
}
