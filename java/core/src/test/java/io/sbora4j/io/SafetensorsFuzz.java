package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.FuzzCases;
import io.sbora4j.testing.Mutations;
import io.sbora4j.testing.TryTimeout;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzing of safetensors files (header and body): valid files damaged one to four times, in the header text (then
 * given a true length field, so that the damage reaches the validator), anywhere in the file, in the length field,
 * or in the data. Opening and loading every tensor may only fail with a one-line
 * {@link SafetensorsFormatException}; what loads holds exactly the file's bytes. Tries: jqwik's default (1,000;
 * {@code -Pfuzz}: 100,000).
 */
@AddLifecycleHook(TryTimeout.class)
class SafetensorsFuzz {

    private static final FuzzCases CASES = new FuzzCases("safetensors", SafetensorsFormatException.class);
    private static final long[] LENGTHS = {
        0, 1, 2, 7, 8, 9, 63, 64, 1L << 31, (1L << 31) - 1, 1L << 32, Long.MAX_VALUE, -1, -8, 100_000_000, 100_000_001
    };

    private static List<byte[]> seeds;
    private static Path dir;

    @BeforeContainer
    static void seeds() throws IOException {
        dir = Files.createTempDirectory("safetensors-fuzz");
        seeds = List.of(
                Files.readAllBytes(Crafted.file(dir, "all.safetensors", """
                        {"__metadata__":{"k":"v"},\
                        "f":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},\
                        "h":{"dtype":"F16","shape":[3],"data_offsets":[24,30]},\
                        "b":{"dtype":"BF16","shape":[1,1],"data_offsets":[30,32]},\
                        "i":{"dtype":"I32","shape":[2],"data_offsets":[32,40]},\
                        "l":{"dtype":"I64","shape":[2],"data_offsets":[40,56]},\
                        "u":{"dtype":"U8","shape":[3],"data_offsets":[56,59]},\
                        "g":{"dtype":"F32","shape":[1],"data_offsets":[59,63]}}""", random(63))),
                written(),
                Files.readAllBytes(Crafted.file(dir, "empty.safetensors", """
                        {"e":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]},\
                        "s":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}""", random(4))),
                Files.readAllBytes(Crafted.file(dir, "meta.safetensors", "{\"__metadata__\":{\"format\":\"pt\"}}", 0)));
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SplittableRandom(n).nextBytes(b);
        return b;
    }

    /** A file of the library's own writer: metadata, f32 and i32 tensors. */
    private static byte[] written() throws IOException {
        Path p = dir.resolve("written.safetensors");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("w", Tensor.of(Device.CPU, new float[] {1, -2, 3.5f, Float.MIN_VALUE, 0, 7}, 2, 3));
        t.put("idx", Tensor.ofInts(Device.CPU, new int[] {3, 1, 4}, 3));
        SafetensorsWriter.write(p, t, Map.of("format", "pt", "sbora4j.layer_shapes", "{\"a\":[2,3]}"));
        return Files.readAllBytes(p);
    }

    @AfterContainer
    static void report() throws IOException {
        System.out.println(CASES.summary());
        try (var s = Files.list(dir)) {
            for (Path f : s.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    @Property
    void damagedFilesAreRefusedCleanly(@ForAll long seed) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[] file = seeds.get(rng.nextInt(seeds.size()));
        long headerLength =
                ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] header = Arrays.copyOfRange(file, 8, 8 + (int) headerLength);
        byte[] data = Arrays.copyOfRange(file, 8 + (int) headerLength, file.length);
        byte[] damaged = switch (rng.nextInt(4)) {
            case 0 -> { // the header text, with a true length field
                byte[] h = Mutations.mutate(header, rng);
                yield Crafted.concat(Crafted.longs(h.length), h, data);
            }
            case 1 -> Mutations.mutate(file, rng);
            case 2 -> Crafted.concat(Crafted.longs(LENGTHS[rng.nextInt(LENGTHS.length)]), header, data);
            default -> Crafted.concat(Arrays.copyOf(file, 8 + header.length), Mutations.bytes(data, rng));
        };
        Path p = dir.resolve("case.safetensors");
        Files.write(p, damaged);
        check(p, damaged);
    }

    /** Opens and loads everything: a format exception or tensors that hold exactly their bytes. */
    private static void check(Path p, byte[] bytes) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFile f;
            try {
                f = SafetensorsFile.open(p, a);
            } catch (SafetensorsFormatException e) {
                CASES.refused(e);
                return;
            }
            long dataStart = bytes.length
                    - f.names().stream().mapToLong(n -> f.info(n).byteSize()).sum();
            boolean refused = false;
            for (String name : f.names()) {
                TensorInfo info = f.info(name);
                Tensor t;
                try {
                    t = f.tensor(name, a, Device.CPU);
                } catch (SafetensorsFormatException e) { // a type sbora4j cannot load, an I64 out of range
                    if (refused) {
                        CASES.check(e);
                    } else {
                        CASES.refused(e);
                    }
                    refused = true;
                    continue;
                }
                assertEquals(info.numel(), t.numel(), name);
                if (info.dtype().equals("F32") || info.dtype().equals("I32")) {
                    MemorySegment fileBytes =
                            MemorySegment.ofArray(bytes).asSlice(dataStart + info.begin(), info.byteSize());
                    assertEquals(-1, fileBytes.mismatch(t.data()), name + " must hold exactly its bytes");
                }
            }
            f.metadata()
                    .forEach((k, v) ->
                            assertEquals(k, new String(k.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)));
            if (!refused) {
                CASES.accepted();
            }
        }
    }
}
