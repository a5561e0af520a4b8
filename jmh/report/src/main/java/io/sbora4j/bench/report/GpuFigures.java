package io.sbora4j.bench.report;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The figures of a GPU run, grouped from JMH results: the adapted layer (forward + backward, and the adapter path
 * alone) per (dtype, route, shape, r), the SBoRA column kernels ({@code GatherScatterBench}) and the merges, each
 * keyed by the parameters the GPU runs vary. Parameters a result lacks take their benchmark's defaults (device
 * cpu, dtype f32, route fused, dout 0 = d), so that older result files read the same.
 *
 * <p>Results of one device only are kept: {@code cuda} where any result is on it, else the first device seen (a
 * smoke run on cpu or reference). Results that cannot be read are skipped with a note, never thrown at the caller.
 *
 * @param device  the device the figures are of
 * @param layers  AdapterLayerBench.forwardBackward rows, in key order
 * @param paths   AdapterLayerBench.adapterPathOnly rows (no base), in key order
 * @param kernels GatherScatterBench rows, in key order
 * @param merges  MergeBench rows, in key order
 * @param notes   one line for each result left out and why
 */
public record GpuFigures(
        String device,
        List<LayerRow> layers,
        List<LayerRow> paths,
        List<KernelRow> kernels,
        List<MergeRow> merges,
        List<String> notes) {

    public static final String KERNEL_BENCH = "GatherScatterBench";
    public static final String FUSED = "fused";
    public static final String CUDA = "cuda";

    public GpuFigures {
        layers = List.copyOf(layers);
        paths = List.copyOf(paths);
        kernels = List.copyOf(kernels);
        merges = List.copyOf(merges);
        notes = List.copyOf(notes);
    }

    /**
     * The shape of one adapted-layer measurement.
     *
     * @param route fused or unfused: how SBoRA reaches its GEMMs on cuda (other methods take one route only)
     * @param dout  output features (never 0: a square layer's dout is d)
     * @param r     the rank; 0 in a row that only the rank-less base was measured at
     */
    public record LayerKey(String dtype, String route, int d, int dout, int tokens, int r) {

        public static final Comparator<LayerKey> ORDER = Comparator.comparing(LayerKey::dtype)
                .thenComparing(LayerKey::route)
                .thenComparingInt(LayerKey::d)
                .thenComparingInt(LayerKey::dout)
                .thenComparingInt(LayerKey::tokens)
                .thenComparingInt(LayerKey::r);

        /** "bf16 fused 4096x11008 T=4096 r=64", for summary lines. */
        public String label() {
            return dtype + " " + route + " " + d + "x" + dout + " T=" + tokens + (r > 0 ? " r=" + r : "");
        }
    }

    /**
     * One adapted-layer shape.
     *
     * @param times  ms per step by method; the frozen {@code base} has no rank and no route, so its time is that of
     *               any r and route at this (dtype, d, dout, tokens), and likewise every method but SBoRA's
     *               (the route is SBoRA's alone) is taken from another route's row where this one lacks it
     */
    public record LayerRow(LayerKey key, Map<String, Timing> times) {

        public LayerRow {
            times = Collections.unmodifiableMap(new LinkedHashMap<>(times));
        }

        /** The method's ms, NaN when not measured. */
        public double ms(String method) {
            Timing t = times.get(method);
            return t == null ? Double.NaN : t.ms();
        }

        /** time(method) / time(lora). */
        public double ratioToLora(String method) {
            return ms(method) / ms(Methods.LORA);
        }

        /** What the adapter adds to the frozen layer: time(method) − time(base), ms; NaN without a base. */
        public double overheadMs(String method) {
            return ms(method) - ms(Methods.BASE);
        }

        /** overhead(method) / overhead(lora); NaN unless LoRA's overhead is above zero (else it is noise). */
        public double overheadRatioToLora(String method) {
            double lora = overheadMs(Methods.LORA);
            return lora > 0 ? overheadMs(method) / lora : Double.NaN;
        }
    }

    /** One GatherScatterBench measurement: {@code kernel} at (dtype, tokens, d, r). */
    public record KernelRow(String dtype, String kernel, int tokens, int d, int r, Timing time) {

        static final Comparator<KernelRow> ORDER = Comparator.comparingInt(KernelRow::tokens)
                .thenComparing(KernelRow::dtype)
                .thenComparingInt(k -> KERNEL_ORDER.indexOf(k.kernel()))
                .thenComparing(KernelRow::kernel)
                .thenComparingInt(KernelRow::d)
                .thenComparingInt(KernelRow::r);

        /** Bytes per element of the activations. */
        public int elemBytes() {
            return "bf16".equals(dtype) ? 2 : 4;
        }
    }

    /** The kernels in the order the report lists them. */
    public static final List<String> KERNEL_ORDER = List.of("gather", "scatter", "gather-gemm", "gemm-scatter");

    /** MergeBench at one (dtype, d, r): ms per merge + unmerge by method. */
    public record MergeRow(String dtype, int d, int r, Map<String, Timing> times) {

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
    }

    /** Whether nothing at all was found to report. */
    public boolean isEmpty() {
        return layers.isEmpty() && paths.isEmpty() && kernels.isEmpty() && merges.isEmpty();
    }

    /** The figures of {@code results}; results of other benchmarks are ignored. */
    public static GpuFigures from(List<BenchResult> results) {
        List<String> notes = new ArrayList<>();
        String device = pickDevice(results);
        // forwardBackward, by exact key and method; adapterPathOnly likewise
        Map<LayerKey, Map<String, List<Timing>>> steps = new TreeMap<>(LayerKey.ORDER);
        Map<LayerKey, Map<String, List<Timing>>> paths = new TreeMap<>(LayerKey.ORDER);
        Map<List<Object>, Timing> kernels = new LinkedHashMap<>();
        Map<List<Object>, Map<String, Timing>> merges = new TreeMap<>(LIST_ORDER);
        int otherDevice = 0;
        for (BenchResult res : results) {
            try {
                if (!device.equals(param(res, "device", "cpu"))) {
                    if (isOurs(res)) {
                        otherDevice++;
                    }
                    continue;
                }
                switch (res.benchmark()) {
                    case BenchFigures.LAYER_BENCH -> {
                        boolean pathOnly = BenchFigures.PATH_ONLY.equals(res.method());
                        String method = method(res);
                        if (pathOnly && Methods.BASE.equals(method)) {
                            continue; // the frozen layer has no adapter path
                        }
                        int d = res.intParam("d");
                        int dout = Integer.parseInt(param(res, "dout", "0").trim());
                        LayerKey key = new LayerKey(
                                param(res, "dtype", "f32"),
                                param(res, "route", FUSED),
                                d,
                                dout == 0 ? d : dout,
                                res.intParam("tokens"),
                                res.intParam("r"));
                        (pathOnly ? paths : steps)
                                .computeIfAbsent(key, k -> new TreeMap<>(Methods.COMPARATOR))
                                .computeIfAbsent(method, m -> new ArrayList<>())
                                .add(res.timing());
                    }
                    case KERNEL_BENCH ->
                        kernels.put(
                                List.of(
                                        param(res, "dtype", "f32"),
                                        res.param("kernel"),
                                        res.intParam("tokens"),
                                        res.intParam("d"),
                                        res.intParam("r")),
                                res.timing());
                    case BenchFigures.MERGE_BENCH ->
                        merges.computeIfAbsent(
                                        List.of(param(res, "dtype", "f32"), res.intParam("d"), res.intParam("r")),
                                        k -> new TreeMap<>(Methods.COMPARATOR))
                                .put(method(res), res.timing());
                    default -> {} // not ours to report
                }
            } catch (IllegalArgumentException | NullPointerException e) {
                notes.add("Skipped a " + res.benchmark() + "." + res.method() + " result " + res.params() + ": "
                        + e.getMessage());
            }
        }
        if (otherDevice > 0) {
            notes.add(otherDevice + " result(s) on a device other than " + device + " left out.");
        }
        List<KernelRow> kernelRows = new ArrayList<>();
        kernels.forEach((k, t) -> kernelRows.add(new KernelRow(
                (String) k.get(0),
                Objects.requireNonNull((String) k.get(1)),
                (Integer) k.get(2),
                (Integer) k.get(3),
                (Integer) k.get(4),
                t)));
        kernelRows.sort(KernelRow.ORDER);
        List<MergeRow> mergeRows = new ArrayList<>();
        merges.forEach(
                (k, v) -> mergeRows.add(new MergeRow((String) k.get(0), (Integer) k.get(1), (Integer) k.get(2), v)));
        return new GpuFigures(device, layerRows(steps, true), layerRows(paths, false), kernelRows, mergeRows, notes);
    }

    /**
     * One row per measured (dtype, route, shape, r), SBoRA's times from its own route, the other methods' from
     * any route (theirs does not vary), base from any r and route; and, with {@code withBaseRows}, a rank-less
     * row for a (dtype, shape) at which only the base was measured.
     */
    private static List<LayerRow> layerRows(Map<LayerKey, Map<String, List<Timing>>> measured, boolean withBaseRows) {
        Map<List<Object>, List<Timing>> base = new LinkedHashMap<>(); // (dtype, d, dout, tokens)
        Map<List<Object>, Map<String, List<Timing>>> anyRoute = new LinkedHashMap<>(); // (dtype, d, dout, T, r)
        TreeSet<LayerKey> keys = new TreeSet<>(LayerKey.ORDER);
        measured.forEach((k, byMethod) -> byMethod.forEach((method, ts) -> {
            if (Methods.BASE.equals(method)) {
                base.computeIfAbsent(shape(k), s -> new ArrayList<>()).addAll(ts);
                return;
            }
            keys.add(k);
            if (!isRouted(method)) {
                anyRoute.computeIfAbsent(shapeAndRank(k), s -> new TreeMap<>())
                        .computeIfAbsent(method, m -> new ArrayList<>())
                        .addAll(ts);
            }
        }));
        if (withBaseRows) {
            for (var e : base.entrySet()) {
                List<Object> s = e.getKey();
                boolean covered = keys.stream().anyMatch(k -> shape(k).equals(s));
                if (!covered) {
                    keys.add(new LayerKey(
                            (String) s.get(0), FUSED, (Integer) s.get(1), (Integer) s.get(2), (Integer) s.get(3), 0));
                }
            }
        }
        List<LayerRow> rows = new ArrayList<>();
        for (LayerKey k : keys) {
            Map<String, Timing> times = new TreeMap<>(Methods.COMPARATOR);
            List<Timing> b = base.get(shape(k));
            if (b != null) {
                times.put(Methods.BASE, Timing.mean(b));
            }
            anyRoute.getOrDefault(shapeAndRank(k), Map.of()).forEach((m, ts) -> times.put(m, Timing.mean(ts)));
            measured.getOrDefault(k, Map.of()).forEach((m, ts) -> {
                if (!Methods.BASE.equals(m) && (isRouted(m) || !times.containsKey(m))) {
                    times.put(m, Timing.mean(ts));
                }
            });
            rows.add(new LayerRow(k, times));
        }
        return rows;
    }

    /** Whether the route parameter changes what {@code method} runs: SBoRA's methods only. */
    static boolean isRouted(String method) {
        return method.startsWith("sbora");
    }

    private static List<Object> shape(LayerKey k) {
        return List.of(k.dtype(), k.d(), k.dout(), k.tokens());
    }

    private static List<Object> shapeAndRank(LayerKey k) {
        return List.of(k.dtype(), k.d(), k.dout(), k.tokens(), k.r());
    }

    private static boolean isOurs(BenchResult res) {
        return switch (res.benchmark()) {
            case BenchFigures.LAYER_BENCH, KERNEL_BENCH, BenchFigures.MERGE_BENCH -> true;
            default -> false;
        };
    }

    /** cuda when any of our results is on it, else the device of the first of ours, else cuda. */
    private static String pickDevice(List<BenchResult> results) {
        String first = null;
        for (BenchResult res : results) {
            if (!isOurs(res)) {
                continue;
            }
            String dev = param(res, "device", "cpu");
            if (CUDA.equals(dev)) {
                return CUDA;
            }
            if (first == null) {
                first = dev;
            }
        }
        return first != null ? first : CUDA;
    }

    private static String param(BenchResult res, String name, String dflt) {
        String v = res.param(name);
        return v == null ? dflt : v;
    }

    private static String method(BenchResult res) {
        String m = res.param("method");
        if (m == null) {
            throw new IllegalArgumentException("no 'method' parameter");
        }
        return m;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static final Comparator<List<Object>> LIST_ORDER = (a, b) -> {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = ((Comparable) a.get(i)).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    };
}
