package io.sbora4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The parsed and fully validated header of a safetensors file. Nothing is trusted: after {@link #read} every tensor's
 * byte range is known to lie inside the data region, to match its shape and type exactly, and the ranges together
 * cover the data region without gaps or overlaps, as the reference implementation requires.
 *
 * @param tensors    tensor entries in header order
 * @param dtypes     the parsed element type of each tensor
 * @param metadata   the string map under {@code __metadata__} (empty when absent)
 * @param dataOffset where the data region starts in the file: 8 + the header length
 * @param dataSize   bytes of the data region
 */
record SafetensorsHeader(
        Map<String, TensorInfo> tensors,
        Map<String, FileDType> dtypes,
        Map<String, String> metadata,
        long dataOffset,
        long dataSize) {

    /** The reference implementation's limit; a larger header is almost certainly a corrupt length field. */
    static final long MAX_HEADER_BYTES = 100_000_000;

    static final String METADATA_KEY = "__metadata__";

    /** Reads and validates the header of the open file {@code ch}, whose size is {@code fileSize}. */
    static SafetensorsHeader read(Path file, FileChannel ch, long fileSize) throws IOException {
        if (fileSize < 8) {
            throw new SafetensorsFormatException(
                    file, "file is " + fileSize + " bytes, too short for the 8-byte header length");
        }
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, len, 0);
        long n = len.getLong(0); // unsigned in the format: a negative long is a value >= 2^63
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(
                    file,
                    "header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_BYTES
                            + " bytes");
        }
        if (n > fileSize - 8) {
            throw new SafetensorsFormatException(
                    file, "header length " + n + " runs past the end of the file (" + fileSize + " bytes)");
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) n);
        readFully(file, ch, bytes, 8);
        return parse(file, bytes.flip(), 8 + n, fileSize - 8 - n);
    }

    /** Validates the header text in {@code bytes} for a data region of {@code dataSize} bytes. */
    static SafetensorsHeader parse(Path file, ByteBuffer bytes, long dataOffset, long dataSize)
            throws SafetensorsFormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(file, "header is not valid UTF-8", e);
        }
        // Like the reference parser: the first byte must open the object (no BOM, no leading whitespace).
        if (!text.startsWith("{")) {
            throw new SafetensorsFormatException(file, "header is not a JSON object: it does not start with '{'");
        }
        JsonNode root;
        try {
            root = StrictJson.parse(text);
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException(file, "header is not valid JSON: " + StrictJson.describe(e), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(file, "header is not a JSON object");
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, FileDType> dtypes = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                metadata = metadata(file, e.getValue());
            } else {
                FileDType[] type = new FileDType[1];
                TensorInfo info = entry(file, e.getKey(), e.getValue(), dataSize, type);
                tensors.put(info.name(), info);
                dtypes.put(info.name(), type[0]);
            }
        }
        checkCoverage(file, tensors.values(), dataSize);
        return new SafetensorsHeader(
                Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(dtypes),
                metadata,
                dataOffset,
                dataSize);
    }

    private static Map<String, String> metadata(Path file, JsonNode node) throws SafetensorsFormatException {
        if (node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new SafetensorsFormatException(file, METADATA_KEY + " must be an object of strings");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsFormatException(
                        file,
                        METADATA_KEY + " value of '" + e.getKey() + "' must be a string, not "
                                + e.getValue().getNodeType().name().toLowerCase(Locale.ROOT));
            }
            m.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(m);
    }

    private static TensorInfo entry(Path file, String name, JsonNode node, long dataSize, FileDType[] typeOut)
            throws SafetensorsFormatException {
        String where = "tensor '" + name + "': ";
        if (!node.isObject()) {
            throw new SafetensorsFormatException(file, where + "entry must be an object");
        }
        JsonNode dtypeNode = required(file, where, node, "dtype");
        JsonNode shapeNode = required(file, where, node, "shape");
        JsonNode offsetsNode = required(file, where, node, "data_offsets");
        if (!dtypeNode.isTextual()) {
            throw new SafetensorsFormatException(file, where + "dtype must be a string");
        }
        String dtype = dtypeNode.textValue();
        FileDType type = FileDType.parse(dtype)
                .orElseThrow(() -> new SafetensorsFormatException(file, where + "unknown dtype '" + dtype + "'"));
        if (!shapeNode.isArray()) {
            throw new SafetensorsFormatException(file, where + "shape must be an array of integers");
        }
        int[] shape = new int[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong()) {
                throw new SafetensorsFormatException(file, where + "shape entry " + d + " is not an integer");
            }
            long v = d.longValue();
            if (v < 0) {
                throw new SafetensorsFormatException(
                        file, where + "negative dimension " + v + " in shape " + shapeNode);
            }
            if (v > Integer.MAX_VALUE) {
                throw new SafetensorsFormatException(
                        file, where + "dimension " + v + " in shape " + shapeNode + " exceeds " + Integer.MAX_VALUE);
            }
            shape[i] = (int) v;
        }
        if (!offsetsNode.isArray() || offsetsNode.size() != 2) {
            throw new SafetensorsFormatException(file, where + "data_offsets must be [begin, end]");
        }
        long begin = offset(file, where, offsetsNode.get(0));
        long end = offset(file, where, offsetsNode.get(1));
        if (begin > end) {
            throw new SafetensorsFormatException(file, where + "data_offsets begin " + begin + " > end " + end);
        }
        if (end > dataSize) {
            throw new SafetensorsFormatException(
                    file, where + "data_offsets end " + end + " lies beyond the data region (" + dataSize + " bytes)");
        }
        long expected = byteSize(file, where, shape, type);
        if (expected != end - begin) {
            throw new SafetensorsFormatException(
                    file,
                    where + "shape " + shapeNode + " of " + dtype + " needs " + expected
                            + " bytes but data_offsets cover " + (end - begin));
        }
        typeOut[0] = type;
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static JsonNode required(Path file, String where, JsonNode node, String key)
            throws SafetensorsFormatException {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw new SafetensorsFormatException(file, where + "missing \"" + key + "\"");
        }
        return v;
    }

    private static long offset(Path file, String where, JsonNode n) throws SafetensorsFormatException {
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0) {
            throw new SafetensorsFormatException(
                    file, where + "data_offsets entry " + n + " is not a non-negative integer");
        }
        return n.longValue();
    }

    /** numel * bits / 8, refusing overflow and sub-byte tensors that end inside a byte (as the reference does). */
    private static long byteSize(Path file, String where, int[] shape, FileDType type)
            throws SafetensorsFormatException {
        try {
            long n = 1;
            for (int d : shape) {
                n = Math.multiplyExact(n, d);
            }
            long bits = Math.multiplyExact(n, type.bits());
            if (bits % 8 != 0) {
                throw new SafetensorsFormatException(
                        file, where + n + " elements of " + type + " do not end on a byte boundary");
            }
            return bits / 8;
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(file, where + "size of shape overflows");
        }
    }

    /** The ranges, sorted, must tile [0, dataSize) exactly: no overlap (aliasing), no hole, nothing left over. */
    private static void checkCoverage(Path file, Collection<TensorInfo> infos, long dataSize)
            throws SafetensorsFormatException {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long covered = 0;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < covered) {
                throw new SafetensorsFormatException(
                        file,
                        "tensors '" + previous.name() + "' " + range(previous) + " and '" + t.name() + "' " + range(t)
                                + " overlap");
            }
            if (t.begin() > covered) {
                throw new SafetensorsFormatException(
                        file,
                        "bytes [" + covered + ", " + t.begin()
                                + ") of the data region belong to no tensor (a hole before '" + t.name() + "')");
            }
            covered = t.end();
            previous = t;
        }
        if (covered != dataSize) {
            throw new SafetensorsFormatException(
                    file,
                    (dataSize - covered) + " bytes at the end of the data region [" + covered + ", " + dataSize
                            + ") belong to no tensor");
        }
    }

    private static String range(TensorInfo t) {
        return "[" + t.begin() + ", " + t.end() + ")";
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) { // the file shrank since its size was taken
                throw new SafetensorsFormatException(file, "unexpected end of file at byte " + pos);
            }
            pos += r;
        }
    }
}
