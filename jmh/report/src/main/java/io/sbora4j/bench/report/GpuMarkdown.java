package io.sbora4j.bench.report;

import static io.sbora4j.bench.report.Cells.NONE;
import static io.sbora4j.bench.report.Cells.num;
import static io.sbora4j.bench.report.Cells.timing;

import io.sbora4j.bench.report.GpuFigures.LayerKey;
import io.sbora4j.bench.report.GpuFigures.LayerRow;
import io.sbora4j.bench.report.GpuFigures.MergeRow;
import io.sbora4j.bench.report.PeerResults.PeerRun;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The GPU report as Markdown: the targets met or missed first, then (a) the adapted layer's forward + backward,
 * (b) the adapter's overhead, (c) PyTorch + PEFT beside ours ({@link GpuPeerSection}), (d) the SBoRA column
 * kernels' bandwidth ({@link GpuKernelSection}) and (e) the merges. A section with nothing behind it is one line
 * saying so.
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
        String overhead = "adapter overhead <= " + fmt(targets.overheadRatioMax()) + " x LoRA's, ";
        TargetTally pathFa = TargetTally.atMost(
                "SBoRA-FA " + overhead + "adapter path measured directly (route fused)", targets.overheadRatioMax());
        TargetTally pathFb = TargetTally.atMost(
                "SBoRA-FB " + overhead + "adapter path measured directly (route fused)", targets.overheadRatioMax());
        TargetTally diffFa = TargetTally.atMost(
                "SBoRA-FA " + overhead + "as fwd+bwd - base (route fused)", targets.overheadRatioMax());
        TargetTally diffFb = TargetTally.atMost(
                "SBoRA-FB " + overhead + "as fwd+bwd - base (route fused)", targets.overheadRatioMax());
        TargetTally peft = TargetTally.atMost(
                "SBoRA-FA fwd+bwd no slower than PyTorch + PEFT LoRA's (ratio <= " + fmt(targets.peftLoraRatioMax())
                        + ")",
                targets.peftLoraRatioMax());
        String bandwidth = " DRAM traffic >= "
                + String.format(Locale.ROOT, "%.0f%%", 100 * targets.kernelBandwidthFractionMin()) + " of "
                + String.format(Locale.ROOT, "%.0f GB/s", gpu.copyGbPerS()) + " (sector bytes, launches past the L2)";
        TargetTally bwColumns =
                TargetTally.atLeast("gather and scatter" + bandwidth, targets.kernelBandwidthFractionMin());
        TargetTally bwGemms = TargetTally.atLeast(
                "fused gather-gemm and gemm-scatter" + bandwidth, targets.kernelBandwidthFractionMin());

        StringBuilder body = new StringBuilder();
        layers(body, f.layers());
        overhead(body, f.paths(), f.layers(), targets, pathFa, pathFb, diffFa, diffFb);
        GpuPeerSection.render(body, peers, f.layers(), targets, peft);
        GpuKernelSection.render(body, f.kernels(), targets, gpu, bwColumns, bwGemms);
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
