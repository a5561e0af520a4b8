package io.sbora4j.io;

import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.FuzzCases;
import io.sbora4j.testing.Mutations;
import io.sbora4j.testing.TryTimeout;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzing of adapter directories: adapters of every library method damaged one to four times, in
 * {@code adapter_config.json} or in {@code adapter_model.safetensors} (its header text with a true length field,
 * which reaches the layer-shape metadata and the method name; any byte; the data: index values and factor values).
 * Each case is read by every reader: {@link AdapterFiles#load} onto a model, {@link AdapterFiles#exportPeft} alone
 * and against the model's shape. Each may only refuse with a one-line {@link IllegalArgumentException} or
 * {@link IOException}. Tries: jqwik's default (1,000 directories, 3,000 reads; {@code -Pfuzz}: 100,000).
 */
@AddLifecycleHook(TryTimeout.class)
class AdapterFilesFuzz {

    private static final FuzzCases CASES =
            new FuzzCases("adapter folders", IllegalArgumentException.class, IOException.class);
    private static final LlamaConfig CFG = new LlamaConfig(16, 8, 12, 1, 2, 1, 1e-6, 10000, 16, false);

    private record Seed(byte[] config, byte[] weights) {}

    private static final List<Seed> SEEDS = new ArrayList<>();
    private static Path dir;

    @BeforeContainer
    static void seeds() throws IOException {
        dir = Files.createTempDirectory("adapter-fuzz");
        List<AdapterMethod> methods =
                List.of(AdapterMethods.LORA, AdapterMethods.DORA, AdapterMethods.SBORA_FA, AdapterMethods.SBORA_FB);
        for (AdapterMethod m : methods) {
            Path a = dir.resolve("seed-" + m.id());
            try (Arena arena = Arena.ofConfined()) {
                PeftModel<LlamaModel> peft = PeftModel.inject(
                        LlamaModel.random(CFG, 1, Device.REFERENCE, arena), AdapterConfig.of(m, 2, 4), arena);
                float v = 0.25f;
                for (AdaptedLinear l : peft.adapted().values()) {
                    for (Tensor t : l.trainable()) {
                        float[] x = new float[(int) t.numel()];
                        Arrays.fill(x, v += 0.125f);
                        t.copyFrom(x);
                    }
                }
                AdapterFiles.save(peft, a);
            }
            SEEDS.add(new Seed(
                    Files.readAllBytes(a.resolve(AdapterFiles.CONFIG)),
                    Files.readAllBytes(a.resolve(AdapterFiles.WEIGHTS))));
        }
    }

    @AfterContainer
    static void report() throws IOException {
        System.out.println(CASES.summary());
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Property
    void damagedAdaptersAreRefusedCleanlyByEveryReader(@ForAll long seed) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        Seed s = SEEDS.get(rng.nextInt(SEEDS.size()));
        byte[] config = s.config(), weights = s.weights();
        int headerLength = (int)
                ByteBuffer.wrap(weights, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] header = Arrays.copyOfRange(weights, 8, 8 + headerLength);
        byte[] data = Arrays.copyOfRange(weights, 8 + headerLength, weights.length);
        switch (rng.nextInt(5)) {
            case 0 -> config = Mutations.mutate(config, rng);
            case 1, 2 -> {
                byte[] h = Mutations.mutate(header, rng);
                weights = Crafted.concat(Crafted.longs(h.length), h, data);
            }
            case 3 -> weights = Mutations.mutate(weights, rng);
            default -> weights = Crafted.concat(Arrays.copyOf(weights, 8 + headerLength), damageData(data, rng));
        }
        Path adapter = dir.resolve("case"), out = dir.resolve("out");
        Files.createDirectories(adapter);
        Files.write(adapter.resolve(AdapterFiles.CONFIG), config);
        Files.write(adapter.resolve(AdapterFiles.WEIGHTS), weights);
        read(() -> {
            try (Arena arena = Arena.ofConfined()) {
                AdapterFiles.load(adapter, LlamaModel.random(CFG, 1, Device.REFERENCE, arena), arena);
            }
        });
        read(() -> AdapterFiles.exportPeft(adapter, out));
        read(() -> AdapterFiles.exportPeft(adapter, out, CFG));
    }

    /** Index values and factor values: ints at the edges, NaN and infinities, random bytes. */
    private static byte[] damageData(byte[] data, SplittableRandom rng) {
        byte[] d = data.clone();
        if (d.length < 4) {
            return Mutations.bytes(d, rng);
        }
        int at = rng.nextInt(d.length / 4) * 4;
        int[] values = {
            -1,
            Integer.MIN_VALUE,
            Integer.MAX_VALUE,
            0,
            1,
            7,
            8,
            16,
            Float.floatToRawIntBits(Float.NaN),
            0x7f800000,
            0xff800000,
            rng.nextInt()
        };
        ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putInt(at, values[rng.nextInt(values.length)]);
        return d;
    }

    private interface Reader {
        void run() throws IOException;
    }

    private static void read(Reader r) {
        try {
            r.run();
        } catch (IllegalArgumentException | IOException e) {
            CASES.refused(e);
            return;
        }
        CASES.accepted();
    }
}
