package io.sbora4j.backend.natives;

import io.sbora4j.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Puts shared libraries that travel as class-path resources into one folder of the file system, where the dynamic
 * loader can open them and find their companions through RUNPATH {@code $ORIGIN}.
 *
 * <p>Resources that already are files (a build tree) are used where they lie. Resources inside a jar are copied once
 * into {@code <cache>/<key>/}: written to a temporary folder first, forced to disk and renamed into place, so a
 * concurrent process or a crash never leaves a half-written library behind; a cache folder found incomplete is
 * replaced.
 */
public final class LibraryExtractor {

    private LibraryExtractor() {}

    /**
     * The folder holding {@code names} (and those of {@code optional} that exist) from resource folder
     * {@code resourceDir}, as {@code anchor}'s class loader sees it. The cache folder is named {@code key}, followed
     * by a hash of the content when {@code hashContent} (for libraries whose version does not change with every
     * build).
     *
     * @throws NativeLibraryException when a resource is missing or cannot be extracted
     */
    public static Path folderOf(
            Class<?> anchor,
            String resourceDir,
            List<String> names,
            List<String> optional,
            String key,
            boolean hashContent) {
        ClassLoader loader = anchor.getClassLoader();
        List<URL> urls = new ArrayList<>();
        List<String> present = new ArrayList<>();
        for (String name : names) {
            URL url = loader.getResource(resourceDir + "/" + name);
            if (url == null) {
                throw new NativeLibraryException("resource " + resourceDir + "/" + name + " is not on the class path");
            }
            urls.add(url);
            present.add(name);
        }
        for (String name : optional) {
            URL url = loader.getResource(resourceDir + "/" + name);
            if (url != null) {
                urls.add(url);
                present.add(name);
            }
        }
        if ("file".equals(urls.getFirst().getProtocol())) {
            try {
                return Path.of(urls.getFirst().toURI()).getParent();
            } catch (URISyntaxException e) {
                throw new NativeLibraryException("bad resource location " + urls.getFirst(), e);
            }
        }
        try {
            Path target;
            List<byte[]> contents = null;
            if (hashContent) {
                contents = readAll(urls);
                target = cacheRoot().resolve(key + "-" + digest(contents));
            } else {
                target = cacheRoot().resolve(key);
            }
            if (Files.isDirectory(target) && allPresent(target, present, urls)) {
                return target;
            }
            if (contents == null) {
                contents = readAll(urls);
            }
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempDirectory(target.getParent(), key + ".tmp");
            for (int i = 0; i < present.size(); i++) {
                try (FileChannel ch = FileChannel.open(
                        tmp.resolve(present.get(i)), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    ByteBuffer b = ByteBuffer.wrap(contents.get(i));
                    while (b.hasRemaining()) {
                        ch.write(b);
                    }
                    ch.force(true); // on disk before the rename makes it visible
                }
            }
            AtomicFiles.syncDirectory(tmp);
            if (Files.isDirectory(target)) {
                // there, but a library is missing or cut short (a crash of an older writer): moved aside, replaced
                Path aside = Files.createTempDirectory(target.getParent(), key + ".old");
                Files.delete(aside);
                try {
                    Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
                    deleteTree(aside);
                } catch (NoSuchFileException raced) {
                    // another process moved it first
                }
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                AtomicFiles.syncDirectory(target.getParent());
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
                deleteTree(tmp); // another process put the same content in place first
            }
            return target;
        } catch (IOException e) {
            throw new NativeLibraryException("cannot extract native libraries into " + cacheRoot() + ": " + e, e);
        }
    }

    private static List<byte[]> readAll(List<URL> urls) throws IOException {
        List<byte[]> contents = new ArrayList<>();
        for (URL url : urls) {
            try (InputStream in = url.openStream()) {
                contents.add(in.readAllBytes());
            }
        }
        return contents;
    }

    /** {@code SBORA_CACHE_DIR}, else {@code $XDG_CACHE_HOME/sbora4j}, else {@code ~/.cache/sbora4j}. */
    static Path cacheRoot() {
        String explicit = System.getenv("SBORA_CACHE_DIR");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        Path root = base.resolve("sbora4j");
        try {
            Files.createDirectories(root);
            if (Files.isWritable(root)) {
                return root;
            }
        } catch (IOException | SecurityException e) {
            // fall through to the temporary folder
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "sbora4j-" + System.getProperty("user.name"));
    }

    private static boolean allPresent(Path dir, List<String> names, List<URL> urls) throws IOException {
        for (int i = 0; i < names.size(); i++) {
            Path p = dir.resolve(names.get(i));
            if (!Files.isRegularFile(p)
                    || Files.size(p) != urls.get(i).openConnection().getContentLengthLong()) {
                return false;
            }
        }
        return true;
    }

    private static String digest(List<byte[]> contents) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            contents.forEach(sha::update);
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
