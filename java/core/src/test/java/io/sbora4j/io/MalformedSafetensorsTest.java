package io.sbora4j.io;

import static io.sbora4j.io.SafetensorsFileTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a header can lie, each in a hand-made file: opening must fail with a {@link SafetensorsFormatException}
 * that names the file and the problem, before any tensor can be handed out.
 */
class MalformedSafetensorsTest {

    @TempDir
    Path dir;

    /** Opens {@code p}, expects the format exception, checks that it names the file and each of {@code parts}. */
    private static void rejects(Path p, String... parts) {
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFormatException e =
                    assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(p, a));
            assertMessage(e, p, parts);
            assertEquals(p, e.file());
        }
    }

    private Path header(String json, int dataBytes) throws Exception {
        return Crafted.file(dir, "bad.safetensors", json, dataBytes);
    }

    private static String f32(String name, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end
                + "]}";
    }

    @Test
    void fileShorterThanTheLengthField() throws Exception {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[] {1, 0, 0, 0, 0});
        rejects(p, "5 bytes", "too short");
        Files.write(p, new byte[0]);
        rejects(p, "0 bytes", "too short");
    }

    @Test
    void headerLengthPastTheEndOfTheFile() throws Exception {
        rejects(
                Crafted.raw(dir, "b.safetensors", 100, "{}".getBytes(), new byte[0]),
                "header length 100",
                "past the end");
    }

    @Test
    void headerLengthOverTheLimit() throws Exception {
        rejects(
                Crafted.raw(dir, "b.safetensors", 100_000_008, "{}".getBytes(), new byte[0]),
                "100000008",
                "exceeds the limit");
        // A u64 with the top bit set must not become a negative long that slips through the checks.
        rejects(
                Crafted.raw(dir, "b.safetensors", -8, "{}".getBytes(), new byte[0]),
                "18446744073709551608",
                "exceeds the limit");
    }

    @Test
    void headerNotUtf8() throws Exception {
        byte[] h = "{\"a?\":{}}       ".getBytes(StandardCharsets.US_ASCII);
        h[3] = (byte) 0xFF; // never valid in UTF-8
        rejects(Crafted.raw(dir, "b.safetensors", h.length, h, new byte[0]), "not valid UTF-8");
    }

    @Test
    void headerNotAJsonObject() throws Exception {
        rejects(header("[1, 2]", 0), "not a JSON object");
        rejects(header(" {}", 0), "not a JSON object");
        rejects(header("{\"a\": ", 0), "not valid JSON");
        rejects(header("{} {}", 0), "not valid JSON");
        rejects(header("{\"x\": 1}", 0), "tensor 'x'", "must be an object");
    }

    @Test
    void duplicateKeys() throws Exception {
        String t = f32("a", "[1]", 0, 4);
        rejects(header("{" + t + "," + t + "}", 4), "not valid JSON", "Duplicate", "'a'");
        rejects(
                header("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "Duplicate",
                "dtype");
        rejects(header("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0), "Duplicate", "'k'");
    }

    @Test
    void entryMissingAField() throws Exception {
        rejects(header("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor 'a'", "missing \"dtype\"");
        rejects(header("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor 'a'", "missing \"shape\"");
        rejects(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor 'a'", "missing \"data_offsets\"");
        rejects(
                header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4),
                "tensor 'a'",
                "[begin, end]");
        rejects(header("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "dtype must be a string");
        rejects(header("{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4), "shape must be an array");
    }

    @Test
    void unknownDtype() throws Exception {
        rejects(
                header("{\"a\":{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "tensor 'a'",
                "unknown dtype 'F31'");
        rejects(header("{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "unknown dtype 'f32'");
    }

    @Test
    void badDimensions() throws Exception {
        rejects(header("{" + f32("a", "[-1, 4]", 0, 4) + "}", 4), "tensor 'a'", "negative dimension -1");
        rejects(header("{" + f32("a", "[1.5]", 0, 4) + "}", 4), "not an integer");
        rejects(header("{" + f32("a", "[3000000000]", 0, 4) + "}", 4), "3000000000", "exceeds");
        rejects(
                header("{" + f32("a", "[2147483647, 2147483647, 2147483647]", 0, 4) + "}", 4),
                "tensor 'a'",
                "overflows");
    }

    @Test
    void shapeDisagreesWithTheByteRange() throws Exception {
        rejects(header("{" + f32("a", "[2, 3]", 0, 20) + "}", 20), "tensor 'a'", "needs 24 bytes", "cover 20");
        rejects(header("{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2), "byte boundary");
    }

    @Test
    void beginAfterEnd() throws Exception {
        rejects(header("{" + f32("a", "[1]", 8, 4) + "}", 8), "tensor 'a'", "begin 8 > end 4");
        rejects(header("{" + f32("a", "[1]", -4, 0) + "}", 8), "tensor 'a'", "not a non-negative integer");
    }

    @Test
    void endBeyondTheDataRegion() throws Exception {
        rejects(header("{" + f32("a", "[2]", 0, 8) + "}", 4), "tensor 'a'", "end 8", "beyond the data region");
        rejects(
                header(
                        "{" + f32("a", "[1]", 0, 4) + "," + f32("b", "[1]", Long.MAX_VALUE - 3, Long.MAX_VALUE) + "}",
                        4),
                "tensor 'b'",
                "beyond the data region");
    }

    @Test
    void overlappingTensors() throws Exception {
        rejects(
                header("{" + f32("a", "[2]", 0, 8) + "," + f32("b", "[2]", 4, 12) + "}", 12),
                "'a' [0, 8)",
                "'b' [4, 12)",
                "overlap");
        // Two names for the same bytes would alias silently: an overlap too.
        rejects(header("{" + f32("a", "[2]", 0, 8) + "," + f32("b", "[2]", 0, 8) + "}", 8), "overlap");
    }

    @Test
    void holesAndTrailingBytes() throws Exception {
        rejects(
                header("{" + f32("a", "[1]", 0, 4) + "," + f32("b", "[1]", 8, 12) + "}", 12),
                "bytes [4, 8)",
                "hole before 'b'");
        rejects(header("{" + f32("a", "[1]", 4, 8) + "}", 8), "bytes [0, 4)");
        rejects(header("{" + f32("a", "[1]", 0, 4) + "}", 12), "8 bytes at the end", "[4, 12)");
        rejects(header("{}", 1), "1 bytes at the end");
    }

    @Test
    void metadataMustBeStrings() throws Exception {
        rejects(header("{\"__metadata__\":{\"epoch\":3}}", 0), "__metadata__", "'epoch'", "must be a string");
        rejects(header("{\"__metadata__\":[\"x\"]}", 0), "__metadata__", "object of strings");
    }
}
