package io.sbora4j.bench.report;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The figures the report is made of, derived from JMH results: per layer shape the time of each method and its
 * overhead over the frozen layer, the frozen layer against raw BLAS, and the merge timings with their speed-ups
 * and bandwidth. Missing measurements come out as NaN, which the renderers print as a dash.
 *
 * @param layers AdapterLayerBench.forwardBackward, one row per (d, tokens, r), ascending
 * @param paths  AdapterLayerBench.adapterPathOnly (the adapter path without the frozen GEMMs), same layout
 * @param gemms  GemmBench, one row per (d, tokens), ascending
 * @param merges MergeBench, one row per (d, r), ascending
 * @param quant  QuantBench, one row per (d, tokens, r), ascending
 */
public record BenchFigures(
        List<LayerRow> layers, List<LayerRow> paths, List<GemmRow> gemms, List<MergeRow> merges, List<QuantRow> quant) {

    public static final String LAYER_BENCH = "AdapterLayerBench";
    public static final String GEMM_BENCH = "GemmBench";
    public static final String MERGE_BENCH = "MergeBench";
    public static final String QUANT_BENCH = "QuantBench";

    /** The AdapterLayerBench method timing only the adapter path. */
    public static final String PATH_ONLY = "adapterPathOnly";

    public BenchFigures {
        layers = List.copyOf(layers);
        paths = List.copyOf(paths);
        gemms = List.copyOf(gemms);
        merges = List.copyOf(merges);
        quant = List.copyOf(quant);
    }

    /**
     * QuantBench at one shape.
     *
     * @param steps      ms per adapted-layer step by "base/method" ({@code f32/sbora-fa}, {@code nf4/lora}, ...)
     * @param dequantMs  ms to dequantise the whole d x d NF4 weight (NaN when not measured)
     * @param copyMs     ms to copy a d x d f32 tensor, the bandwidth yardstick (NaN when not measured)
     */
    public record QuantRow(int d, int tokens, int r, Map<String, Timing> steps, double dequantMs, double copyMs) {

        public QuantRow {
            steps = Collections.unmodifiableMap(new LinkedHashMap<>(steps));
        }

        public double ms(String key) {
            Timing t = steps.get(key);
            return t == null ? Double.NaN : t.ms();
        }

        /** Bytes a dequantisation moves: n/2 codes and n/64 scales read, 4n written. */
        public double dequantGbPerSecond() {
            double n = (double) d * d;
            return (n / 2 + n / 16 + 4 * n) / (dequantMs * 1e-3) / 1e9;
        }

        /** Bytes the f32 copy moves: 4n read, 4n written. */
        public double copyGbPerSecond() {
            return 8.0 * d * d / (copyMs * 1e-3) / 1e9;
        }
    }

    /**
     * AdapterLayerBench at one shape.
     *
     * @param times milliseconds per forward + backward by method ({@code base} included when measured)
     */
    public record LayerRow(int d, int tokens, int r, Map<String, Timing> times) {

        public LayerRow {
            times = Collections.unmodifiableMap(new LinkedHashMap<>(times));
        }

        /** The method's time in ms, NaN when not measured. */
        public double ms(String method) {
            Timing t = times.get(method);
            return t == null ? Double.NaN : t.ms();
        }

        /** What the adapter adds to the frozen layer: method time − base time, ms. */
        public double overheadMs(String method) {
            return ms(method) - ms(Methods.BASE);
        }

        /** overhead(method) / overhead(lora): the figure the SBoRA targets are stated in. */
        public double overheadRatioToLora(String method) {
            return overheadMs(method) / overheadMs(Methods.LORA);
        }

        /** For adapter-path rows, whose times are the overheads themselves: time(method) / time(lora). */
        public double ratioToLora(String method) {
            return ms(method) / ms(Methods.LORA);
        }
    }

    /**
     * GemmBench at one shape, beside the frozen layer it is the floor of.
     *
     * @param baseMs the mean AdapterLayerBench {@code base} time at this (d, tokens) over every r measured (the
     *               base layer has no r: each r is another measurement of the same work); NaN when not measured
     */
    public record GemmRow(int d, int tokens, Timing gemm, double baseMs) {

        /** The flops of one invocation: two (tokens x d) · (d x d) products, 2·tokens·d² each. */
        public double flops() {
            return 2.0 * 2.0 * tokens * (double) d * d;
        }

        public double gflopsPerSecond() {
            return flops() / (gemm.ms() * 1e-3) / 1e9;
        }

        /** base layer time / raw cblas time. */
        public double baseRatio() {
            return baseMs / gemm.ms();
        }
    }

    /**
     * MergeBench at one shape.
     *
     * @param times milliseconds per merge + unmerge by method
     */
    public record MergeRow(int d, int r, Map<String, Timing> times) {

        public MergeRow {
            times = Collections.unmodifiableMap(new LinkedHashMap<>(times));
        }

        public double ms(String method) {
            Timing t = times.get(method);
            return t == null ? Double.NaN : t.ms();
        }

        /** How many times longer LoRA's merge + unmerge takes than {@code method}'s. */
        public double loraOver(String method) {
            return ms(Methods.LORA) / ms(method);
        }

        public double sboraFbGbPerSecond() {
            return MergeTraffic.gbPerSecond(MergeTraffic.sboraFbBytes(d, r), ms(Methods.SBORA_FB));
        }

        public double sboraFaUsefulGbPerSecond() {
            return MergeTraffic.gbPerSecond(MergeTraffic.sboraFaUsefulBytes(d, r), ms(Methods.SBORA_FA));
        }

        public double sboraFaCacheLineGbPerSecond() {
            return MergeTraffic.gbPerSecond(MergeTraffic.sboraFaCacheLineBytes(d, r), ms(Methods.SBORA_FA));
        }
    }

    /** Whether nothing at all was found to report. */
    public boolean isEmpty() {
        return layers.isEmpty() && paths.isEmpty() && gemms.isEmpty() && merges.isEmpty() && quant.isEmpty();
    }

    /** The figures of every known benchmark in {@code results}; results of other benchmarks are ignored. */
    public static BenchFigures from(List<BenchResult> results) {
        Map<List<Integer>, Map<String, Timing>> layerTimes = new TreeMap<>(KEY_ORDER);
        Map<List<Integer>, Map<String, Timing>> pathTimes = new TreeMap<>(KEY_ORDER);
        Map<List<Integer>, Timing> gemmTimes = new TreeMap<>(KEY_ORDER);
        Map<List<Integer>, Map<String, Timing>> mergeTimes = new TreeMap<>(KEY_ORDER);
        Map<List<Integer>, Map<String, Timing>> quantTimes = new TreeMap<>(KEY_ORDER);
        for (BenchResult res : results) {
            switch (res.benchmark()) {
                case LAYER_BENCH -> {
                    boolean pathOnly = PATH_ONLY.equals(res.method());
                    if (pathOnly && Methods.BASE.equals(method(res))) {
                        continue; // the frozen layer has no adapter path
                    }
                    (pathOnly ? pathTimes : layerTimes)
                            .computeIfAbsent(
                                    List.of(res.intParam("d"), res.intParam("tokens"), res.intParam("r")),
                                    k -> new TreeMap<>(Methods.COMPARATOR))
                            .put(method(res), res.timing());
                }
                case GEMM_BENCH -> gemmTimes.put(List.of(res.intParam("d"), res.intParam("tokens")), res.timing());
                case MERGE_BENCH ->
                    mergeTimes
                            .computeIfAbsent(
                                    List.of(res.intParam("d"), res.intParam("r")),
                                    k -> new TreeMap<>(Methods.COMPARATOR))
                            .put(method(res), res.timing());
                case QUANT_BENCH -> {
                    String key = switch (res.method()) {
                        case "layerStep" -> res.param("base") + "/" + method(res);
                        default -> res.method(); // dequantize, copyF32: the same for every base and method
                    };
                    quantTimes
                            .computeIfAbsent(
                                    List.of(res.intParam("d"), res.intParam("tokens"), res.intParam("r")),
                                    k -> new TreeMap<>())
                            .put(key, res.timing());
                }
                default -> {} // not ours to report
            }
        }
        List<LayerRow> layers = new ArrayList<>();
        layerTimes.forEach((k, v) -> layers.add(new LayerRow(k.get(0), k.get(1), k.get(2), v)));
        List<LayerRow> paths = new ArrayList<>();
        pathTimes.forEach((k, v) -> paths.add(new LayerRow(k.get(0), k.get(1), k.get(2), v)));
        List<GemmRow> gemms = new ArrayList<>();
        gemmTimes.forEach((k, v) -> gemms.add(new GemmRow(k.get(0), k.get(1), v, baseMs(layers, k.get(0), k.get(1)))));
        List<MergeRow> merges = new ArrayList<>();
        mergeTimes.forEach((k, v) -> merges.add(new MergeRow(k.get(0), k.get(1), v)));
        List<QuantRow> quant = new ArrayList<>();
        quantTimes.forEach((k, v) -> {
            Map<String, Timing> steps = new TreeMap<>(v);
            Timing deq = steps.remove("dequantize"), copy = steps.remove("copyF32");
            quant.add(new QuantRow(
                    k.get(0),
                    k.get(1),
                    k.get(2),
                    steps,
                    deq == null ? Double.NaN : deq.ms(),
                    copy == null ? Double.NaN : copy.ms()));
        });
        return new BenchFigures(layers, paths, gemms, merges, quant);
    }

    private static String method(BenchResult res) {
        String m = res.param("method");
        if (m == null) {
            throw new IllegalArgumentException(res.benchmark() + " result has no 'method' parameter: " + res.params());
        }
        return m;
    }

    private static double baseMs(List<LayerRow> layers, int d, int tokens) {
        List<Timing> base = layers.stream()
                .filter(l -> l.d() == d && l.tokens() == tokens && l.times().containsKey(Methods.BASE))
                .map(l -> l.times().get(Methods.BASE))
                .toList();
        return base.isEmpty() ? Double.NaN : Timing.mean(base).ms();
    }

    private static final Comparator<List<Integer>> KEY_ORDER = (a, b) -> {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = Integer.compare(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    };
}
