package io.sbora4j.cli;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.io.LoadOptions;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.io.SafetensorsFile;
import io.sbora4j.io.ShardedSafetensors;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.quant.MergeMode;
import io.sbora4j.quant.Quantization;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Run in a child JVM by {@link ModelFileChangesTest}, since a regression here is a SIGBUS that would take the test
 * JVM down: native code is handed weights whose file is truncated or rewritten under them, at fixed points of a load
 * and at random ones. Prints one line per case, and exits with 0 when every case ended as it may: an exception
 * naming the change, or a model whose logits are those of one whole version of the file.
 */
public final class ChangingModelChild {

    /** Projections of 256 KB and more, so that a truncation leaves whole pages of them beyond the end. */
    static final LlamaConfig CFG = new LlamaConfig(2048, 256, 512, 2, 4, 4, 1e-6, 10000, 64, false);

    private static final int[] IDS = {1, 20, 300, 2047};

    private ChangingModelChild() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int concurrentLoads = Integer.parseInt(args[1]);
        Path a = dir.resolve("a"), b = dir.resolve("b"), model = dir.resolve("model");
        save(a, 1);
        save(b, 2);
        int failures = 0;
        for (LoadOptions.Projections form : LoadOptions.Projections.values()) {
            failures += convertingViewsOfATruncatedFile(a, model, form);
            failures += truncatedAfterTheLoad(a, model, form);
        }
        failures += concurrentChanges(a, b, model, concurrentLoads);
        System.out.println(failures == 0 ? "all cases clean" : failures + " cases not clean");
        System.exit(failures == 0 ? 0 : 1);
    }

    private static void save(Path dir, long seed) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            ModelFiles.save(LlamaModel.random(CFG, seed, Device.CPU, arena), dir);
        }
    }

    private static void restore(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (String f : List.of(ModelFiles.CONFIG, ShardedSafetensors.SINGLE_FILE)) {
            Files.write(to.resolve(f), Files.readAllBytes(from.resolve(f))); // in place: the same inode
        }
    }

    private static Path weights(Path dir) {
        return dir.resolve(ShardedSafetensors.SINGLE_FILE);
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    private static float[] logits(LlamaModel m) {
        try (NoGrad ignored = NoGrad.enter()) {
            return m.logits(Tensor.ofInts(Device.CPU, IDS, 1, IDS.length)).toFloatArray();
        }
    }

    private static LoadOptions options(LoadOptions.Projections form) {
        return LoadOptions.on(Device.CPU).withProjections(form);
    }

    /**
     * What the load does between mapping and converting, with the file truncated in between: a model over views of
     * the mapping, converted (bf16, NF4) or run (f32, which a load copies first).
     */
    private static int convertingViewsOfATruncatedFile(Path a, Path model, LoadOptions.Projections form)
            throws IOException {
        restore(a, model);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(weights(model), arena);
            Map<String, Tensor> views = new LinkedHashMap<>();
            for (String name : f.names()) {
                views.put(
                        name,
                        name.contains("_proj.") ? f.tensor(name, arena, Device.CPU) : f.read(name, arena, Device.CPU));
            }
            LlamaModel m = LlamaModel.of(CFG, views, Device.CPU, arena);
            truncate(weights(model), 8);
            String what = "converting views of a truncated file to " + form;
            try {
                switch (form) {
                    case F32 -> { // what a load does with an f32 weight: copy it
                        for (var e : m.namedTensors().entrySet()) {
                            e.getValue().copyInto(arena, Device.CPU);
                        }
                    }
                    case BF16 -> m.useBf16Projections(arena);
                    case NF4 -> Quantization.quantize(m, MergeMode.OVERLAY, arena);
                }
                System.out.println(what + ": no error");
                return 1;
            } catch (UncheckedIOException e) {
                System.out.println(what + ": " + e.getMessage());
                return e.getMessage().contains("changed under it") ? 0 : 1;
            }
        }
    }

    /** The file truncated, then rewritten with other weights, after the load: the model runs as loaded. */
    private static int truncatedAfterTheLoad(Path a, Path model, LoadOptions.Projections form) throws IOException {
        restore(a, model);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(model, options(form), arena);
            float[] before = logits(m);
            truncate(weights(model), 8);
            boolean same = Arrays.equals(before, logits(m));
            Files.write(weights(model), new byte[(int) Files.size(weights(a))]); // zeros in place of the weights
            same &= Arrays.equals(before, logits(m));
            System.out.println("truncated and rewritten after a " + form + " load: "
                    + (same ? "the model runs as loaded" : "THE LOGITS CHANGED"));
            return same ? 0 : 1;
        }
    }

    /**
     * Loads while another thread truncates the file, or rewrites it in place as {@code cp} does (truncate, then write
     * the other model), after a random delay. A load either fails naming the change or gives the logits of a or b.
     */
    private static int concurrentChanges(Path a, Path b, Path model, int loads) throws Exception {
        Map<LoadOptions.Projections, List<float[]>> expected = new LinkedHashMap<>();
        for (LoadOptions.Projections form : LoadOptions.Projections.values()) {
            try (Arena arena = Arena.ofConfined()) {
                expected.put(
                        form,
                        List.of(
                                logits(ModelFiles.load(a, options(form), arena)),
                                logits(ModelFiles.load(b, options(form), arena))));
            }
        }
        byte[] other = Files.readAllBytes(weights(b));
        SplittableRandom rng = new SplittableRandom(7);
        Map<String, Integer> outcomes = new TreeMap<>();
        int failures = 0;
        for (int i = 0; i < loads; i++) {
            LoadOptions.Projections form = LoadOptions.Projections.values()[i % 3];
            boolean copy = i % 2 == 1;
            long delayMicros = rng.nextLong(30_000);
            long cut = copy ? 0 : rng.nextLong(8, other.length);
            restore(a, model);
            Thread changer = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(Math.floorDiv(delayMicros, 1000), (int) (delayMicros % 1000) * 1000);
                    truncate(weights(model), cut);
                    if (copy) {
                        try (FileChannel ch = FileChannel.open(weights(model), StandardOpenOption.WRITE)) {
                            for (ByteBuffer buf = ByteBuffer.wrap(other); buf.hasRemaining(); ) {
                                ch.write(buf.slice(buf.position(), Math.min(buf.remaining(), 1 << 16)));
                                buf.position(buf.position() + Math.min(buf.remaining(), 1 << 16));
                            }
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            String outcome;
            try (Arena arena = Arena.ofConfined()) {
                float[] got = logits(ModelFiles.load(model, options(form), arena));
                boolean whole = expected.get(form).stream().anyMatch(e -> Arrays.equals(e, got));
                outcome = whole ? "loaded one whole version" : "LOADED MIXED WEIGHTS";
                failures += whole ? 0 : 1;
            } catch (IOException e) {
                outcome = "refused: " + e.getClass().getSimpleName();
                System.out.println("  " + form + (copy ? " rewritten" : " truncated") + ": " + e.getMessage());
            } catch (RuntimeException | Error e) {
                outcome = "FAILED WITH " + e;
                failures++;
            }
            changer.join();
            outcomes.merge(form + (copy ? " rewritten in place: " : " truncated: ") + outcome, 1, Integer::sum);
        }
        outcomes.forEach((k, n) -> System.out.println("concurrent " + k + " x" + n));
        return failures;
    }
}
