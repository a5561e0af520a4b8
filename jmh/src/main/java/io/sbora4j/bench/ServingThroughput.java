package io.sbora4j.bench;

import io.sbora4j.data.ByteTokenizer;
import io.sbora4j.data.Generator;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.AdapterRouting;
import io.sbora4j.peft.TensorSpec;
import io.sbora4j.serve.AdapterRegistry;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Serving throughput with many adapters in one batch, as {@code sbora serve} runs a batch: {@link Generator}'s
 * per-sequence overload with an {@link AdapterRouting} opened around the prefill and every decode step. A batch of
 * {@code sequences} greedy generations (random prompts, no stop token) is timed with 1, 8 and 64 distinct SBoRA-FA
 * adapters spread over its sequences, and with one adapter merged into the base (exact hot-swap) and no routing:
 * the cost of serving many adapters at once against serving one. Configurations alternate, round after round, so
 * that all see the same machine load; one line per run, then the median ratios.
 *
 * <pre>
 *   java --enable-native-access=ALL-UNNAMED -Dsbora.bench.threads=2 -cp jmh/target/benchmarks.jar \
 *        io.sbora4j.bench.ServingThroughput [HIDDEN [LAYERS [SEQUENCES [PROMPT [NEW [ROUNDS]]]]]]
 * </pre>
 */
public final class ServingThroughput {

    private ServingThroughput() {}

    public static void main(String[] args) {
        int hidden = arg(args, 0, 512), layers = arg(args, 1, 4), sequences = arg(args, 2, 64);
        int prompt = arg(args, 3, 16), newTokens = arg(args, 4, 32), rounds = arg(args, 5, 3);
        int r = 16;
        LlamaConfig cfg = new LlamaConfig(320, hidden, hidden * 8 / 3, layers, 8, 4, 1e-5, 10000, 256, false);
        Device dev = BenchTensors.device("cpu");
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel model = LlamaModel.random(cfg, BenchTensors.SEED, dev, arena);
            AdapterRegistry<LlamaModel> registry = AdapterRegistry.over(model);
            SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
            AdapterConfig config = AdapterConfig.of(AdapterMethods.SBORA_FA, r, 2.0 * r);
            for (int a = 0; a < 64; a++) {
                registry.add("a" + a, config.withSeed(a), randomTensors(model, config, rng));
            }
            List<int[]> prompts = new ArrayList<>();
            for (int b = 0; b < sequences; b++) {
                int[] p = new int[prompt];
                for (int t = 0; t < prompt; t++) {
                    p[t] = rng.nextInt(256);
                }
                prompts.add(p);
            }
            Generator generator = new Generator(model, new ByteTokenizer());
            List<Generator.Options> options = new ArrayList<>();
            for (int b = 0; b < sequences; b++) {
                options.add(Generator.Options.greedy(newTokens, -1));
            }
            System.out.printf(
                    Locale.ROOT,
                    "# hidden %d, %d layers, %d sequences x (%d prompt + %d new tokens), SBoRA-FA r=%d, threads %s%n",
                    hidden,
                    layers,
                    sequences,
                    prompt,
                    newTokens,
                    r,
                    Integer.getInteger(BenchTensors.THREADS_PROPERTY, 0));
            int[] distinct = {1, 8, 64};
            double[][] tps = new double[distinct.length + 1][rounds];
            run(registry, generator, prompts, options, 0); // warm-up
            for (int round = 0; round < rounds; round++) {
                registry.swapTo("a0");
                tps[0][round] =
                        sequences * newTokens / seconds(() -> generate(registry, generator, prompts, options, null));
                registry.swapToBase();
                System.out.printf(Locale.ROOT, "round %d merged      %8.1f tokens/s%n", round + 1, tps[0][round]);
                for (int k = 0; k < distinct.length; k++) {
                    tps[k + 1][round] = sequences * newTokens / run(registry, generator, prompts, options, distinct[k]);
                    System.out.printf(
                            Locale.ROOT,
                            "round %d mixed %2d    %8.1f tokens/s%n",
                            round + 1,
                            distinct[k],
                            tps[k + 1][round]);
                }
            }
            for (int k = 0; k < distinct.length; k++) {
                double[] ratio = new double[rounds];
                for (int round = 0; round < rounds; round++) {
                    ratio[round] = tps[k + 1][round] / tps[0][round];
                }
                Arrays.sort(ratio);
                System.out.printf(
                        Locale.ROOT,
                        "%2d distinct adapters / one merged: median %.2fx (rounds %s)%n",
                        distinct[k],
                        ratio[rounds / 2],
                        Arrays.toString(ratio));
            }
        }
    }

    /** Seconds of one batch with {@code distinct} adapters spread over the sequences (0: a warm-up with 64). */
    private static double run(
            AdapterRegistry<LlamaModel> registry,
            Generator generator,
            List<int[]> prompts,
            List<Generator.Options> options,
            int distinct) {
        List<String> names = new ArrayList<>();
        for (int b = 0; b < prompts.size(); b++) {
            names.add("a" + b % (distinct == 0 ? 64 : distinct));
        }
        return seconds(() -> generate(registry, generator, prompts, options, names));
    }

    private static void generate(
            AdapterRegistry<LlamaModel> registry,
            Generator generator,
            List<int[]> prompts,
            List<Generator.Options> options,
            List<String> names) {
        generator.generate(prompts, options, (b, token, text) -> {}, (cache, step) -> {
            if (names == null) {
                return registry.withModel(m -> m.forwardCached(cache, step));
            }
            int width = Arrays.stream(step).mapToInt(s -> s.length).max().orElse(1);
            return registry.routed(
                    AdapterRouting.perSequence(names, Math.max(1, width)), m -> m.forwardCached(cache, step));
        });
    }

    private static double seconds(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static int arg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }

    /** SBoRA-FA tensors for every targeted layer: distinct sorted indices and small random B. */
    private static Map<String, Map<String, Tensor>> randomTensors(
            LlamaModel model, AdapterConfig config, SplittableRandom rng) {
        Map<String, Map<String, Tensor>> layers = new LinkedHashMap<>();
        for (var e : model.linearLayers().entrySet()) {
            if (!config.targets(e.getKey())) {
                continue;
            }
            LinearLayer l = e.getValue();
            Map<String, Tensor> t = new LinkedHashMap<>();
            for (var spec : config.method()
                    .storedTensors(l.outFeatures(), l.inFeatures(), config.r())
                    .entrySet()) {
                TensorSpec s = spec.getValue();
                int[] dims = s.shape().dims();
                if (s.dtype() == DType.I32) {
                    int[] idx = rng.ints(0, l.inFeatures())
                            .distinct()
                            .limit(config.r())
                            .sorted()
                            .toArray();
                    t.put(spec.getKey(), Tensor.ofInts(Device.CPU, idx, dims));
                } else {
                    float[] v = new float[(int) s.shape().numel()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) (0.02 * (rng.nextDouble() - 0.5));
                    }
                    t.put(spec.getKey(), Tensor.of(Device.CPU, v, dims));
                }
            }
            layers.put(e.getKey(), t);
        }
        return layers;
    }
}
