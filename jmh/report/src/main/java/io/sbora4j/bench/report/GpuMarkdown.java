package io.sbora4j.bench.report;

import static io.sbora4j.bench.report.Cells.NONE;
import static io.sbora4j.bench.report.Cells.num;
import static io.sbora4j.bench.report.Cells.percent;
import static io.sbora4j.bench.report.Cells.timing;

import io.sbora4j.bench.report.GpuFigures.KernelRow;
import io.sbora4j.bench.report.GpuFigures.LayerKey;
import io.sbora4j.bench.report.GpuFigures.LayerRow;
import io.sbora4j.bench.report.GpuFigures.MergeRow;
import io.sbora4j.bench.report.PeerResults.Peer;
import io.sbora4j.bench.report.PeerResults.PeerRun;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The GPU report as Markdown: the targets met or missed first, then (a) the adapted layer's forward + backward,
 * (b) the adapter's overhead, (c) PyTorch + PEFT beside ours, (d) the SBoRA column kernels' bandwidth and (e) the
 * merges. A section with nothing behind it is one line saying so.
 */
public final class GpuMarkdown {

    private GpuMarkdown() {}

    /**
     * What the report says about where its numbers come from.
     *
     * @param machine the GPU and host, as the user names them
     * @param date    when the run was made
     * @param inputs  one line per input file read
     * @param notes   inputs left out and why
     * @param targets what the figures are checked against
     * @param gpu     the GPU whose copy bandwidth and L2 the kernels' figures are read against
     */
    public record Context(
            String machine, String date, List<String> inputs, List<String> notes, Targets targets, GpuConstants gpu) {

        public Context {
            inputs = List.copyOf(inputs);
            notes = List.copyOf(notes);
        }
    }

    /** The report of {@code f} beside the {@code peers}. */
    public static String render(GpuFigures f, List<PeerRun> peers, Context ctx) {
        Targets targets = ctx.targets();
        GpuConstants gpu = ctx.gpu();
        TargetTally pathFa = new TargetTally(
                "SBoRA-FA adapter overhead <= " + fmt(targets.overheadRatioMax())
                        + " x LoRA's, adapter path measured directly (route fused)",
                true,
                targets.overheadRatioMax(),
                "%.2f");
        TargetTally pathFb = new TargetTally(
                "SBoRA-FB adapter overhead <= " + fmt(targets.overheadRatioMax())
                        + " x LoRA's, adapter path measured directly (route fused)",
                true,
                targets.overheadRatioMax(),
                "%.2f");
        TargetTally diffFa = new TargetTally(
                "SBoRA-FA adapter overhead <= " + fmt(targets.overheadRatioMax())
                        + " x LoRA's, as fwd+bwd - base (route fused)",
                true,
                targets.overheadRatioMax(),
                "%.2f");
        TargetTally diffFb = new TargetTally(
                "SBoRA-FB adapter overhead <= " + fmt(targets.overheadRatioMax())
                        + " x LoRA's, as fwd+bwd - base (route fused)",
                true,
                targets.overheadRatioMax(),
                "%.2f");
        TargetTally peft = new TargetTally(
                "SBoRA-FA fwd+bwd no slower than PyTorch + PEFT LoRA's (ratio <= " + fmt(targets.peftLoraRatioMax())
                        + ")",
                true,
                targets.peftLoraRatioMax(),
                "%.2f");
        String pct = String.format(Locale.ROOT, "%.0f%%", 100 * targets.kernelBandwidthFractionMin());
        String peak = String.format(Locale.ROOT, "%.0f GB/s", gpu.copyGbPerS());
        TargetTally bwColumns = new TargetTally(
                "gather and scatter DRAM traffic >= " + pct + " of " + peak + " (sector bytes, launches past the L2)",
                false,
                targets.kernelBandwidthFractionMin(),
                "%.2f");
        TargetTally bwGemms = new TargetTally(
                "fused gather-gemm and gemm-scatter DRAM traffic >= " + pct + " of " + peak
                        + " (sector bytes, launches past the L2)",
                false,
                targets.kernelBandwidthFractionMin(),
                "%.2f");

        StringBuilder body = new StringBuilder();
        layers(body, f.layers());
        overhead(body, f.paths(), f.layers(), targets, pathFa, pathFb, diffFa, diffFb);
        peers(body, peers, f.layers(), targets, peft);
        kernels(body, f.kernels(), ctx, bwColumns, bwGemms);
        merges(body, f.merges());

        StringBuilder sb = new StringBuilder("# sbora4j GPU benchmark results\n\n");
        sb.append("Machine: ")
                .append(ctx.machine())
                .append(". Date: ")
                .append(ctx.date())
                .append(". Device: ")
                .append(f.device())
                .append(".\n\n");
        if (!ctx.inputs().isEmpty()) {
            sb.append("Inputs:\n");
            ctx.inputs().forEach(i -> sb.append("- ").append(i).append('\n'));
            sb.append('\n');
        }
        sb.append("## Targets\n\n")
                .append("From `")
                .append(targets.source())
                .append("`; bandwidths against the ")
                .append(gpu.id())
                .append(" entry of `")
                .append(gpu.source())
                .append("`.\n\n");
        for (TargetTally t : List.of(pathFa, pathFb, diffFa, diffFb, peft, bwColumns, bwGemms)) {
            sb.append(t.line()).append('\n');
        }
        sb.append('\n').append(body);
        List<String> notes = new ArrayList<>(ctx.notes());
        notes.addAll(f.notes());
        if (!notes.isEmpty()) {
            sb.append("## Notes on the inputs\n\n");
            notes.forEach(n -> sb.append("- ").append(n).append('\n'));
            sb.append('\n');
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- (a)

    private static void layers(StringBuilder sb, List<LayerRow> rows) {
        sb.append("## (a) Adapted layer, forward + backward\n\n");
        if (rows.isEmpty()) {
            sb.append("Not measured: no AdapterLayerBench.forwardBackward results in the inputs.\n\n");
            return;
        }
        sb.append("Milliseconds per training step of one adapted linear layer (forward, then backward with dx ")
                .append("computed; ± JMH's 99.9% error): frozen dout x d weight, activations and gradients in the ")
                .append("row's dtype, trained factors f32. `base` is the frozen layer alone; it has no rank and no ")
                .append("route, so each row of a shape shows the same base. `route` is how SBoRA reaches its GEMMs ")
                .append("on cuda: the fused gather/scatter GEMM kernels, or a gather then cuBLAS (unfused); the ")
                .append("other methods have one route and show the same time in both.\n\n");
        List<String> methods = methodsIn(rows);
        List<String> head = layerHead();
        head.addAll(methods);
        head.addAll(List.of("sbora-fa / lora", "sbora-fb / lora"));
        MarkdownTable t = new MarkdownTable(head);
        for (LayerRow row : rows) {
            List<String> cells = layerCells(row.key());
            methods.forEach(m -> cells.add(timing(row.times().get(m), 1, "%.3f")));
            cells.add(num(row.ratioToLora(Methods.SBORA_FA), "%.2f"));
            cells.add(num(row.ratioToLora(Methods.SBORA_FB), "%.2f"));
            t.row(cells);
        }
        sb.append(t.render()).append('\n');
    }

    // ---------------------------------------------------------------- (b)

    private static void overhead(
            StringBuilder sb,
            List<LayerRow> paths,
            List<LayerRow> layers,
            Targets targets,
            TargetTally pathFa,
            TargetTally pathFb,
            TargetTally diffFa,
            TargetTally diffFb) {
        sb.append("## (b) Adapter overhead\n\n");
        if (paths.isEmpty()) {
            sb.append("Adapter path alone: not measured (no AdapterLayerBench.adapterPathOnly results).\n\n");
        } else {
            sb.append("### Measured directly (adapterPathOnly)\n\n")
                    .append("The same step with the two frozen GEMMs replaced by fixed buffers: the time is the ")
                    .append("adapter's overhead itself, ms. SBoRA / LoRA against the target <= ")
                    .append(fmt(targets.overheadRatioMax()))
                    .append(".\n\n");
            List<String> methods = methodsIn(paths);
            List<String> head = layerHead();
            head.addAll(methods);
            head.addAll(List.of("sbora-fa / lora", "sbora-fb / lora"));
            MarkdownTable t = new MarkdownTable(head);
            for (LayerRow row : paths) {
                List<String> cells = layerCells(row.key());
                methods.forEach(m -> cells.add(timing(row.times().get(m), 1, "%.3f")));
                cells.add(verdict(pathFa, row.ratioToLora(Methods.SBORA_FA), row.key()));
                cells.add(verdict(pathFb, row.ratioToLora(Methods.SBORA_FB), row.key()));
                t.row(cells);
            }
            sb.append(t.render()).append('\n');
        }
        List<LayerRow> withBase = layers.stream()
                .filter(r -> r.times().containsKey(Methods.BASE) && r.times().size() > 1)
                .toList();
        if (withBase.isEmpty()) {
            sb.append("Overhead as fwd+bwd - base: not measured (no base beside an adapter at one shape).\n\n");
            return;
        }
        sb.append("### As fwd+bwd - base\n\n")
                .append("Each method's forward + backward time minus the frozen layer's at the same shape, ms, and ")
                .append("SBoRA's as a fraction of LoRA's (target <= ")
                .append(fmt(targets.overheadRatioMax()))
                .append("): a small difference of two larger times, so noisier than the direct measure (a ")
                .append("negative overhead is marked noise and not counted).\n\n");
        List<String> adapters = methodsIn(withBase).stream()
                .filter(m -> !m.equals(Methods.BASE))
                .toList();
        List<String> head = layerHead();
        head.addAll(adapters);
        head.addAll(List.of("sbora-fa / lora", "sbora-fb / lora"));
        MarkdownTable t = new MarkdownTable(head);
        for (LayerRow row : withBase) {
            List<String> cells = layerCells(row.key());
            adapters.forEach(m -> cells.add(num(row.overheadMs(m), "%.3f")));
            cells.add(verdict(diffFa, row.overheadRatioToLora(Methods.SBORA_FA), row.key()));
            cells.add(verdict(diffFb, row.overheadRatioToLora(Methods.SBORA_FB), row.key()));
            t.row(cells);
        }
        sb.append(t.render()).append('\n');
    }

    /**
     * The ratio with ok / MISSED; counted in {@code tally} for the default route only. A negative ratio (the
     * method measured faster than the frozen layer) is noise, shown as such and not counted.
     */
    private static String verdict(TargetTally tally, double v, LayerKey key) {
        if (Double.isNaN(v)) {
            return NONE;
        }
        if (v < 0) {
            return num(v, "%.2f") + " noise";
        }
        if (GpuFigures.FUSED.equals(key.route())) {
            tally.add(v, key.label());
        }
        return num(v, "%.2f") + (tally.meets(v) ? " ok" : " MISSED");
    }

    // ---------------------------------------------------------------- (c)

    private static void peers(
            StringBuilder sb, List<PeerRun> runs, List<LayerRow> layers, Targets targets, TargetTally peft) {
        sb.append("## (c) PyTorch + PEFT beside sbora4j\n\n");
        // (dtype, d_in, d_out, tokens) -> base; (..., r) -> method -> peer; later files win
        Map<List<Object>, Peer> base = new LinkedHashMap<>();
        Map<List<Object>, Map<String, Peer>> adapted = new LinkedHashMap<>();
        for (PeerRun run : runs) {
            for (Peer p : run.results()) {
                List<Object> shape = List.of(p.dtype(), p.dIn(), p.dOut(), p.tokens());
                if (Methods.BASE.equals(p.method())) {
                    base.put(shape, p);
                } else {
                    List<Object> k = new ArrayList<>(shape);
                    k.add(p.r());
                    adapted.computeIfAbsent(k, x -> new LinkedHashMap<>()).put(p.method(), p);
                }
            }
        }
        if (adapted.isEmpty()) {
            sb.append("Not measured: no peer results (bench/peers/peft_lora.py) in the inputs.\n\n");
            return;
        }
        for (PeerRun run : runs) {
            sb.append("- ")
                    .append(run.source())
                    .append(": torch ")
                    .append(run.torch())
                    .append(" on ")
                    .append(run.device())
                    .append(", ")
                    .append(run.time())
                    .append('\n');
        }
        sb.append('\n')
                .append("Milliseconds per forward + backward of one adapted layer at the same shape, dtype and ")
                .append("r. PEFT: median of its timed steps (CUDA events around each step; its x is a leaf, so ")
                .append("each step also accumulates x.grad). sbora4j: JMH's mean wall time per step, launch work ")
                .append("and a synchronize included, route fused. PEFT lora keeps its adapter weights in f32 on a ")
                .append("bf16 model (its default); lora-bf16 keeps them in bf16 (its fastest form). Target: SBoRA-FA ")
                .append("/ PEFT LoRA <= ")
                .append(fmt(targets.peftLoraRatioMax()))
                .append(", against the faster of PEFT's two LoRA forms.\n\n");
        MarkdownTable t = new MarkdownTable(
                "dtype",
                "d x dout",
                "tokens",
                "r",
                "PEFT base",
                "PEFT lora",
                "PEFT lora-bf16",
                "PEFT dora",
                "ours base",
                "ours lora",
                "ours sbora-fa",
                "ours sbora-fb",
                "ours lora / PEFT lora",
                "sbora-fa / PEFT lora");
        List<List<Object>> keys = new ArrayList<>(adapted.keySet());
        keys.sort(GpuMarkdown::compareKeys);
        for (List<Object> k : keys) {
            String dtype = (String) k.get(0);
            int dIn = (Integer) k.get(1),
                    dOut = (Integer) k.get(2),
                    tokens = (Integer) k.get(3),
                    r = (Integer) k.get(4);
            Map<String, Peer> ps = adapted.get(k);
            Peer pb = base.get(k.subList(0, 4));
            LayerKey ours = new LayerKey(dtype, GpuFigures.FUSED, dIn, dOut, tokens, r);
            LayerRow row = layers.stream()
                    .filter(l -> l.key().equals(ours))
                    .findFirst()
                    .orElse(null);
            double peftF32Adapters = peerMs(ps.get(Methods.LORA));
            double peftBf16Adapters = peerMs(ps.get("lora-bf16"));
            double peftLora = Double.isNaN(peftBf16Adapters)
                    ? peftF32Adapters
                    : Double.isNaN(peftF32Adapters) ? peftBf16Adapters : Math.min(peftF32Adapters, peftBf16Adapters);
            double fa = row == null ? Double.NaN : row.ms(Methods.SBORA_FA);
            double ratio = fa / peftLora;
            String v = NONE;
            if (!Double.isNaN(ratio)) {
                peft.add(ratio, ours.label());
                v = num(ratio, "%.2f") + (peft.meets(ratio) ? " ok" : " MISSED");
            }
            t.row(List.of(
                    dtype,
                    dIn + " x " + dOut,
                    Integer.toString(tokens),
                    Integer.toString(r),
                    num(peerMs(pb), "%.3f"),
                    num(peftF32Adapters, "%.3f"),
                    num(peftBf16Adapters, "%.3f"),
                    num(peerMs(ps.get("dora")), "%.3f"),
                    num(ms(row, Methods.BASE), "%.3f"),
                    num(ms(row, Methods.LORA), "%.3f"),
                    num(fa, "%.3f"),
                    num(ms(row, Methods.SBORA_FB), "%.3f"),
                    num(ms(row, Methods.LORA) / peftLora, "%.2f"),
                    v));
        }
        sb.append(t.render()).append('\n');
    }

    private static double peerMs(Peer p) {
        return p == null ? Double.NaN : p.medianMs();
    }

    private static double ms(LayerRow row, String method) {
        return row == null ? Double.NaN : row.ms(method);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compareKeys(List<Object> a, List<Object> b) {
        for (int i = 0; i < a.size(); i++) {
            int c = ((Comparable) a.get(i)).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    // ---------------------------------------------------------------- (d)

    private static void kernels(
            StringBuilder sb, List<KernelRow> rows, Context ctx, TargetTally columns, TargetTally gemms) {
        Targets targets = ctx.targets();
        GpuConstants gpu = ctx.gpu();
        sb.append("## (d) SBoRA column kernels: gather, scatter and the fused GEMMs\n\n");
        if (rows.isEmpty()) {
            sb.append("Not measured: no GatherScatterBench results in the inputs.\n\n");
            return;
        }
        sb.append(String.format(
                        Locale.ROOT,
                        "Microseconds per launch (%d launches, then one synchronize, per ",
                        KernelTraffic.LAUNCHES_PER_INVOCATION))
                .append("invocation) on (tokens x d) activations and r distinct random columns. GB/s two ways: the ")
                .append("useful bytes (each element once) and the DRAM sector bytes (each strided element a whole ")
                .append("32-byte sector), both over the time; % of ")
                .append(String.format(Locale.ROOT, "%.0f", gpu.copyGbPerS()))
                .append(" GB/s, the ")
                .append(gpu.name())
                .append("'s measured copy bandwidth. The target (>= ")
                .append(String.format(Locale.ROOT, "%.0f%%", 100 * targets.kernelBandwidthFractionMin()))
                .append(" on sector bytes) is checked only where one launch moves at least twice the L2 (")
                .append(String.format(Locale.ROOT, "%.0f MB", gpu.l2Bytes() / 1e6))
                .append("): smaller launches are served from the L2 and cost about a launch, so their figure is ")
                .append("latency, not bandwidth (\"in L2\").\n\n");
        MarkdownTable t = new MarkdownTable(
                "dtype",
                "kernel",
                "tokens",
                "d",
                "r",
                "µs / launch",
                "useful MB",
                "useful GB/s",
                "useful % peak",
                "sector MB",
                "sector GB/s",
                "sector % peak",
                "GFLOP/s",
                "sector >= " + String.format(Locale.ROOT, "%.0f%%", 100 * targets.kernelBandwidthFractionMin()));
        for (KernelRow k : rows) {
            double s = k.time().ms() * 1e-3;
            long useful = KernelTraffic.usefulBytes(k.kernel(), k.tokens(), k.d(), k.r(), k.elemBytes());
            long sector = KernelTraffic.sectorBytes(k.kernel(), k.tokens(), k.d(), k.r(), k.elemBytes());
            double flops = KernelTraffic.flops(k.kernel(), k.tokens(), k.d(), k.r());
            double usefulGbs = useful / s / 1e9, sectorGbs = sector / s / 1e9;
            double sectorFraction = sectorGbs / gpu.copyGbPerS();
            String v;
            if (sector < 2 * gpu.l2Bytes()) {
                v = "in L2";
            } else {
                String label = k.dtype() + " " + k.kernel() + " T=" + k.tokens() + " d=" + k.d() + " r=" + k.r();
                TargetTally tally = k.kernel().contains("gemm") ? gemms : columns;
                tally.add(sectorFraction, label);
                v = num(sectorFraction, "%.2f") + (tally.meets(sectorFraction) ? " ok" : " MISSED");
            }
            t.row(List.of(
                    k.dtype(),
                    k.kernel(),
                    Integer.toString(k.tokens()),
                    Integer.toString(k.d()),
                    Integer.toString(k.r()),
                    timing(k.time(), 1e3, "%.2f"),
                    num(useful / 1e6, "%.1f"),
                    num(usefulGbs, "%.0f"),
                    percent(usefulGbs / gpu.copyGbPerS()),
                    num(sector / 1e6, "%.1f"),
                    num(sectorGbs, "%.0f"),
                    percent(sectorFraction),
                    flops > 0 ? num(flops / s / 1e9, "%.0f") : NONE,
                    v));
        }
        sb.append(t.render())
                .append('\n')
                .append("Bytes per launch (T tokens, e bytes per activation element, B is d x r f32): gather ")
                .append("2·T·r·e useful, 32·T·r + T·r·e sectors; scatter 3·T·r·e useful, 2·32·T·r + T·r·e sectors; ")
                .append("gather-gemm T·r·e + 4·d·r + 2·T·d·e useful, the T·r gathered elements as sectors; ")
                .append("gemm-scatter T·d·e + 4·d·r + 2·T·r·e useful, the 2·T·r scattered ones as sectors. ")
                .append("Sector bytes are an upper bound: columns within one sector share it. GFLOP/s counts the ")
                .append("fused GEMMs' 2·T·r·d flops per launch; the ")
                .append(gpu.name())
                .append("'s dense bf16 tensor-core peak is ")
                .append(String.format(Locale.ROOT, "%.0f", gpu.peakBf16TflopPerS()))
                .append(" TFLOP/s.\n\n");
    }

    // ---------------------------------------------------------------- (e)

    private static void merges(StringBuilder sb, List<MergeRow> rows) {
        sb.append("## (e) Merge + unmerge\n\n");
        if (rows.isEmpty()) {
            sb.append("Not measured: no MergeBench results in the inputs.\n\n");
            return;
        }
        sb.append("Microseconds per merge followed by unmerge of one adapter into its d x d weight (the row's ")
                .append("dtype; factors f32), synchronize included; half of it is one merge. The speed-ups over ")
                .append("LoRA are shown without the CPU targets: on a GPU a merge this small costs about a launch.")
                .append("\n\n");
        List<String> methods = Methods.in(rows.stream().map(MergeRow::times).toList());
        List<String> head = new ArrayList<>(List.of("dtype", "d", "r"));
        head.addAll(methods);
        head.addAll(List.of("lora / sbora-fa", "lora / sbora-fb"));
        MarkdownTable t = new MarkdownTable(head);
        for (MergeRow row : rows) {
            List<String> cells =
                    new ArrayList<>(List.of(row.dtype(), Integer.toString(row.d()), Integer.toString(row.r())));
            methods.forEach(m -> cells.add(timing(row.times().get(m), 1e3, "%.1f")));
            cells.add(num(row.loraOver(Methods.SBORA_FA), "%.1f"));
            cells.add(num(row.loraOver(Methods.SBORA_FB), "%.1f"));
            t.row(cells);
        }
        sb.append(t.render()).append('\n');
    }

    // ---------------------------------------------------------------- cells

    private static List<String> methodsIn(List<LayerRow> rows) {
        return Methods.in(rows.stream().map(LayerRow::times).toList());
    }

    private static List<String> layerHead() {
        return new ArrayList<>(List.of("dtype", "route", "d x dout", "tokens", "r"));
    }

    private static List<String> layerCells(LayerKey k) {
        return new ArrayList<>(List.of(
                k.dtype(),
                k.route(),
                k.d() + " x " + k.dout(),
                Integer.toString(k.tokens()),
                k.r() > 0 ? Integer.toString(k.r()) : NONE));
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
