package io.sbora4j.io;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Writes a model directory the way Hugging Face does: one {@value ShardedSafetensors#SINGLE_FILE} when everything fits
 * in one shard, otherwise {@code model-00001-of-0000N.safetensors} files plus {@value ShardedSafetensors#INDEX_FILE}.
 *
 * <p>Tensors are packed in the map's order; a shard is closed when the next tensor would take it past the limit, and a
 * tensor larger than the limit gets a shard of its own. Every file is replaced atomically and the index is written
 * last, so a reader never finds it pointing at a shard not yet written. Afterwards, weight files of an earlier save that
 * the new layout does not use (a stale {@value ShardedSafetensors#SINGLE_FILE}, which readers would prefer, or
 * surplus shards) are deleted; the directory as a whole is therefore not replaced atomically.
 */
public final class ShardedSafetensorsWriter {

    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");

    private ShardedSafetensorsWriter() {}

    /** Writes {@code tensors} into {@code dir} with f32 stored as is; see the other overload. */
    public static List<Path> write(
            Path dir, Map<String, Tensor> tensors, Map<String, String> metadata, long maxShardBytes)
            throws IOException {
        return write(dir, tensors, metadata, maxShardBytes, SafetensorsWriter.FloatFormat.F32);
    }

    /**
     * Writes {@code tensors} into {@code dir} (created if needed) in shards of at most {@code maxShardBytes} of
     * tensor data each, every shard carrying {@code metadata} (null for none).
     *
     * @return the files written, the index last when there is one
     */
    public static List<Path> write(
            Path dir,
            Map<String, Tensor> tensors,
            Map<String, String> metadata,
            long maxShardBytes,
            SafetensorsWriter.FloatFormat floats)
            throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<Map<String, Tensor>> plan = plan(tensors, maxShardBytes, floats);
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        if (plan.size() <= 1) {
            Path file = dir.resolve(ShardedSafetensors.SINGLE_FILE);
            SafetensorsWriter.write(file, plan.isEmpty() ? Map.of() : plan.getFirst(), metadata, floats);
            written.add(file);
            deleteStale(dir, Set.of(ShardedSafetensors.SINGLE_FILE), true);
            return written;
        }
        ObjectNode index = StrictJson.PRETTY.createObjectNode();
        long total = 0;
        ObjectNode weightMap = StrictJson.PRETTY.createObjectNode();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < plan.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, plan.size());
            Path file = dir.resolve(name);
            SafetensorsWriter.write(file, plan.get(i), metadata, floats);
            written.add(file);
            names.add(name);
            for (Map.Entry<String, Tensor> e : plan.get(i).entrySet()) {
                weightMap.put(e.getKey(), name);
                total += SafetensorsWriter.storedSize(e.getValue(), floats);
            }
        }
        index.putObject("metadata").put("total_size", total);
        index.set("weight_map", weightMap);
        Path indexFile = dir.resolve(ShardedSafetensors.INDEX_FILE);
        byte[] json = (StrictJson.PRETTY.writeValueAsString(index) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(indexFile, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(json)));
        written.add(indexFile);
        deleteStale(dir, names, false);
        return written;
    }

    /** Splits {@code tensors}, in order, into shards of at most {@code max} stored bytes (one oversize per shard). */
    static List<Map<String, Tensor>> plan(Map<String, Tensor> tensors, long max, SafetensorsWriter.FloatFormat floats) {
        List<Map<String, Tensor>> shards = new ArrayList<>();
        Map<String, Tensor> current = new LinkedHashMap<>();
        long size = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            long bytes = SafetensorsWriter.storedSize(e.getValue(), floats);
            if (!current.isEmpty() && size + bytes > max) {
                shards.add(current);
                current = new LinkedHashMap<>();
                size = 0;
            }
            current.put(e.getKey(), e.getValue());
            size += bytes;
        }
        if (!current.isEmpty()) {
            shards.add(current);
        }
        return shards;
    }

    /** Deletes weight files of an earlier layout: shard-named files not in {@code keep}, and the other layout's file. */
    private static void deleteStale(Path dir, Set<String> keep, boolean single) throws IOException {
        Files.deleteIfExists(dir.resolve(single ? ShardedSafetensors.INDEX_FILE : ShardedSafetensors.SINGLE_FILE));
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (SHARD_NAME.matcher(n).matches() && !keep.contains(n)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
