package io.sbora4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * bf16 against f32 in one process, alternated call by call: the body of {@link LlamaStepBench} or of
 * {@link Bf16GemmBench} for each type, timed in pairs, with the ratio of each pair. On a shared machine a JMH run
 * measures the two types minutes apart, under different loads; pairs see the same load, so their ratios spread
 * far less than the times themselves.
 *
 * <pre>
 *   java --enable-native-access=ALL-UNNAMED -cp jmh/target/benchmarks.jar io.sbora4j.bench.Bf16Pairs step [pairs]
 *   java ... io.sbora4j.bench.Bf16Pairs gemm [pairs] [tokens] [in x out ...]
 * </pre>
 * {@code step}: a training step of the small LLaMA ({@link LlamaStepBench}'s defaults: hidden 512, intermediate
 * 1376, 4 layers, 8 / 4 heads, vocabulary 320, 8 x 128 tokens, SBoRA-FA r = 16). {@code gemm}: a projection's two
 * GEMMs per shape (default: the small LLaMA's and TinyLlama-1.1B's, 1024 tokens). {@code -Dsbora.bench.threads=n}
 * sets the native threads.
 */
public final class Bf16Pairs {

    private Bf16Pairs() {}

    /** Times of the pairs (f32, bf16) in ms, after two warm-up pairs. */
    record Pairs(double[] f32, double[] bf16) {
        double[] ratios() {
            double[] r = new double[f32.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = bf16[i] / f32[i];
            }
            return r;
        }

        private static double median(double[] v) {
            double[] s = v.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }

        private static double min(double[] v) {
            return Arrays.stream(v).min().orElse(Double.NaN);
        }

        private static double max(double[] v) {
            return Arrays.stream(v).max().orElse(Double.NaN);
        }

        String summary() {
            double[] r = ratios();
            return String.format(
                    Locale.ROOT,
                    "f32 %.1f ms (min %.1f), bf16 %.1f ms (min %.1f); bf16/f32 median %.3f, min %.3f, max %.3f",
                    median(f32),
                    min(f32),
                    median(bf16),
                    min(bf16),
                    median(r),
                    min(r),
                    max(r));
        }
    }

    static Pairs time(int pairs, Runnable f32, Runnable bf16) {
        double[] a = new double[pairs], b = new double[pairs];
        for (int i = -2; i < pairs; i++) {
            long t0 = System.nanoTime();
            f32.run();
            long t1 = System.nanoTime();
            bf16.run();
            long t2 = System.nanoTime();
            if (i >= 0) {
                a[i] = (t1 - t0) / 1e6;
                b[i] = (t2 - t1) / 1e6;
            }
        }
        return new Pairs(a, b);
    }

    static Pairs steps(int pairs, Supplier<LlamaStepBench> shape) {
        LlamaStepBench f32 = shape.get(), bf16 = shape.get();
        f32.dtype = "f32";
        bf16.dtype = "bf16";
        f32.setup();
        bf16.setup();
        try {
            return time(pairs, f32::trainStep, bf16::trainStep);
        } finally {
            f32.tearDown();
            bf16.tearDown();
        }
    }

    static Pairs gemms(int pairs, int tokens, String shape) {
        List<Bf16GemmBench> two = new ArrayList<>();
        for (String type : List.of("f32", "bf16")) {
            Bf16GemmBench b = new Bf16GemmBench();
            b.dtype = type;
            b.shape = shape;
            b.tokens = tokens;
            b.setup();
            two.add(b);
        }
        try {
            return time(pairs, two.get(0)::forwardBackward, two.get(1)::forwardBackward);
        } finally {
            two.forEach(Bf16GemmBench::tearDown);
        }
    }

    private static LlamaStepBench defaultStep() {
        LlamaStepBench b = new LlamaStepBench();
        b.hidden = 512;
        b.intermediate = 1376;
        b.layers = 4;
        b.batch = 8;
        b.seq = 128;
        b.r = 16;
        return b;
    }

    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "step";
        int pairs = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        switch (mode) {
            case "step" ->
                System.out.println(
                        "training step: " + steps(pairs, Bf16Pairs::defaultStep).summary());
            case "gemm" -> {
                int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 1024;
                List<String> shapes = args.length > 3
                        ? List.of(args).subList(3, args.length)
                        : List.of("512x1376", "1376x512", "2048x2048", "2048x5632", "5632x2048");
                for (String s : shapes) {
                    System.out.println(s + ", " + tokens + " tokens: "
                            + gemms(pairs, tokens, s).summary());
                }
            }
            default -> throw new IllegalArgumentException("mode must be step or gemm, not '" + mode + "'");
        }
    }
}
