package io.sbora4j.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Cheap fingerprints of a run's inputs, to tell whether a resumed run reads what the interrupted one read: a data file
 * by its size and content hash, a model directory by its config and its weight files' sizes and safetensors headers
 * (names, types, shapes, offsets), never by hashing gigabytes of weights.
 */
public final class Fingerprints {

    /** Bytes of a safetensors header hashed at most (a larger one is hashed by its length word alone). */
    private static final long MAX_HEADER = 100L << 20;

    private Fingerprints() {}

    /** {@code "<size> bytes, sha256 <16 hex digits>"} of the file's whole content. */
    public static String file(Path file) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return Files.size(file) + " bytes, sha256 " + hex(md);
    }

    /**
     * {@code "sha256 <16 hex digits> of config.json and <n> weight headers, <size> weight bytes"}: the config's
     * bytes, and each {@code .safetensors} file's name, size and header, and the shard index, in name order.
     */
    public static String model(Path dir) throws IOException {
        MessageDigest md = sha256();
        Path config = dir.resolve(ModelFiles.CONFIG);
        md.update(Files.readAllBytes(config));
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> {
                        String n = p.getFileName().toString();
                        return n.endsWith(".safetensors") || n.equals(ShardedSafetensors.INDEX_FILE);
                    })
                    .sorted()
                    .toList();
        }
        long total = 0;
        int headers = 0;
        for (Path f : files) {
            String name = f.getFileName().toString();
            long size = Files.size(f);
            md.update(("\n" + name + " " + size + "\n").getBytes(StandardCharsets.UTF_8));
            if (name.equals(ShardedSafetensors.INDEX_FILE)) {
                md.update(Files.readAllBytes(f));
                continue;
            }
            total += size;
            headers++;
            md.update(header(f, size));
        }
        return "sha256 " + hex(md) + " of config.json and " + headers + " weight headers, " + total + " weight bytes";
    }

    /** The length word and the JSON header of a safetensors file (the word alone when implausible). */
    private static byte[] header(Path f, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (len.hasRemaining() && ch.read(len) > 0) {}
            if (len.hasRemaining()) {
                return Arrays.copyOf(len.array(), len.position());
            }
            long n = len.getLong(0);
            if (n < 0 || n > MAX_HEADER || n > size - 8) {
                return len.array();
            }
            ByteBuffer all = ByteBuffer.allocate((int) (8 + n));
            all.put(len.array());
            while (all.hasRemaining() && ch.read(all) > 0) {}
            return all.array();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static String hex(MessageDigest md) {
        return HexFormat.of().formatHex(md.digest(), 0, 8);
    }
}
