package io.sbora4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The weights of a Hugging Face model directory: {@value #SINGLE_FILE}, or, when that is absent, the shards listed by
 * {@value #INDEX_FILE} ({@code {"metadata": {...}, "weight_map": {"name": "model-00001-of-00002.safetensors"}}}).
 *
 * <p>Each shard is opened (mapped, validated) once, in the given arena; names are routed through the weight map. The
 * index must be consistent: every shard it names exists, as a plain file name in the same directory, and holds the
 * tensors the index puts there. Tensors a shard holds beyond the index are not visible. If a later shard turns out
 * to be invalid, the shards already mapped stay mapped until the arena closes.
 *
 * <p>Immutable; usable from several threads when the arena is shared.
 */
public final class ShardedSafetensors {

    /** The single-file layout, preferred when present. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The index of a sharded layout. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Map<String, SafetensorsFile> route;
    private final List<SafetensorsFile> shards;

    private ShardedSafetensors(Map<String, SafetensorsFile> route, List<SafetensorsFile> shards) {
        this.route = route;
        this.shards = shards;
    }

    /** Opens a model directory (or a single {@code .safetensors} file) read-only, mapping into {@code arena}. */
    public static ShardedSafetensors open(Path dirOrFile, Arena arena) throws IOException {
        return open(dirOrFile, arena, SafetensorsFile.Access.READ_ONLY);
    }

    /**
     * Opens a model directory (or a single {@code .safetensors} file), mapping every shard into {@code arena}.
     *
     * @throws NoSuchFileException        if the directory has neither {@value #SINGLE_FILE} nor {@value #INDEX_FILE}
     * @throws SafetensorsFormatException if the index or a shard is malformed or they disagree
     */
    public static ShardedSafetensors open(Path dirOrFile, Arena arena, SafetensorsFile.Access access)
            throws IOException {
        if (Files.isRegularFile(dirOrFile)) {
            return single(SafetensorsFile.open(dirOrFile, arena, access));
        }
        Path single = dirOrFile.resolve(SINGLE_FILE);
        if (Files.exists(single)) {
            return single(SafetensorsFile.open(single, arena, access));
        }
        Path index = dirOrFile.resolve(INDEX_FILE);
        if (!Files.exists(index)) {
            throw new NoSuchFileException(
                    dirOrFile.toString(), null, "neither " + SINGLE_FILE + " nor " + INDEX_FILE + " found");
        }
        Map<String, String> weightMap = readIndex(index);
        Map<String, SafetensorsFile> byShard = new LinkedHashMap<>();
        Map<String, SafetensorsFile> route = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            SafetensorsFile shard = byShard.get(e.getValue());
            if (shard == null) {
                Path p = dirOrFile.resolve(e.getValue());
                if (!Files.isRegularFile(p)) {
                    throw new SafetensorsFormatException(
                            index,
                            "tensor '" + e.getKey() + "' is mapped to shard '" + e.getValue()
                                    + "', which does not exist");
                }
                shard = SafetensorsFile.open(p, arena, access);
                byShard.put(e.getValue(), shard);
            }
            if (!shard.contains(e.getKey())) {
                throw new SafetensorsFormatException(
                        index,
                        "tensor '" + e.getKey() + "' is mapped to shard '" + e.getValue()
                                + "', which does not contain it");
            }
            route.put(e.getKey(), shard);
        }
        return new ShardedSafetensors(Collections.unmodifiableMap(route), List.copyOf(byShard.values()));
    }

    private static ShardedSafetensors single(SafetensorsFile f) {
        Map<String, SafetensorsFile> route = new LinkedHashMap<>();
        f.names().forEach(n -> route.put(n, f));
        return new ShardedSafetensors(Collections.unmodifiableMap(route), List.of(f));
    }

    /** The weight map of {@code index}: tensor name to a shard file name in the index's directory. */
    static Map<String, String> readIndex(Path index) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(index)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(index, "index is not valid UTF-8", e);
        }
        JsonNode root;
        try {
            root = StrictJson.parse(text);
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException(index, "index is not valid JSON: " + StrictJson.describe(e), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(index, "index is not a JSON object");
        }
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new SafetensorsFormatException(index, "index has no \"weight_map\" object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsFormatException(
                        index, "weight_map entry '" + e.getKey() + "' must be a file name string");
            }
            String shard = e.getValue().textValue();
            if (!isPlainFileName(shard)) {
                // An index must not reach outside its directory (../, absolute paths): files may come from anywhere.
                throw new SafetensorsFormatException(
                        index,
                        "weight_map entry '" + e.getKey() + "' names '" + shard
                                + "', which is not a file name in the index's directory");
            }
            weightMap.put(e.getKey(), shard);
        }
        return weightMap;
    }

    private static boolean isPlainFileName(String s) {
        if (s.isEmpty()
                || s.equals(".")
                || s.equals("..")
                || s.indexOf('/') >= 0
                || s.indexOf('\\') >= 0
                || s.indexOf('\0') >= 0) {
            return false;
        }
        try {
            Path p = Path.of(s);
            return !p.isAbsolute() && p.getNameCount() == 1;
        } catch (InvalidPathException e) {
            return false;
        }
    }

    /** Tensor names: header order for a single file, index order for shards. */
    public Set<String> names() {
        return route.keySet();
    }

    /** Whether there is a tensor called {@code name}. */
    public boolean contains(String name) {
        return route.containsKey(name);
    }

    /**
     * Where {@code name} lies within its shard.
     *
     * @throws IllegalArgumentException if there is no such tensor
     */
    public TensorInfo info(String name) {
        return shardOf(name).info(name);
    }

    /** Tensor {@code name}, loaded as {@link SafetensorsFile#tensor} does. */
    public Tensor tensor(String name, Arena target, Device device) throws SafetensorsFormatException {
        return shardOf(name).tensor(name, target, device);
    }

    /** Tensor {@code name} in memory of its own, read as {@link SafetensorsFile#read} does. */
    public Tensor read(String name, Arena target, Device device) throws SafetensorsFormatException {
        return shardOf(name).read(name, target, device);
    }

    /**
     * Checks every shard as {@link SafetensorsFile#requireUnchanged} does.
     *
     * @throws IOException naming the first shard that was written or truncated in place since it was opened
     */
    public void requireUnchanged() throws IOException {
        for (SafetensorsFile shard : shards) {
            shard.requireUnchanged();
        }
    }

    /**
     * The file holding {@code name}.
     *
     * @throws IllegalArgumentException if there is no such tensor
     */
    public SafetensorsFile shardOf(String name) {
        SafetensorsFile f = route.get(Objects.requireNonNull(name, "name"));
        if (f == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + shards.size() + " shard(s) of "
                    + shards.stream()
                            .map(s -> s.path().getFileName().toString())
                            .toList());
        }
        return f;
    }

    /** The opened files, each once, in order of first use by the index. */
    public List<SafetensorsFile> shards() {
        return shards;
    }
}
