package io.sbora4j.bench.report;

import static io.sbora4j.bench.report.Cells.atLeast;
import static io.sbora4j.bench.report.Cells.atMost;
import static io.sbora4j.bench.report.Cells.num;
import static io.sbora4j.bench.report.Cells.timing;

import io.sbora4j.bench.report.BenchFigures.GemmRow;
import io.sbora4j.bench.report.BenchFigures.LayerRow;
import io.sbora4j.bench.report.BenchFigures.MergeRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The CPU results as Markdown: time tables, the derived ratios, and each ratio against its {@link Targets target}
 * ("ok" or "MISSED"), with the charts embedded when they were written. Columns are padded so that the same text
 * reads well printed to a terminal.
 */
public final class CpuMarkdown {

    private CpuMarkdown() {}

    /**
     * The report of {@code f}.
     *
     * @param targets    the targets the ratios are checked against
     * @param layerChart file name of the AdapterLayerBench chart next to the Markdown file, or null for none
     * @param mergeChart file name of the MergeBench chart, or null for none
     */
    public static String render(BenchFigures f, Targets targets, String layerChart, String mergeChart) {
        StringBuilder sb = new StringBuilder("# sbora4j benchmark results\n\n");
        if (f.isEmpty()) {
            return sb.append("No AdapterLayerBench, GemmBench or MergeBench results were found.\n")
                    .toString();
        }
        sb.append("Targets from `").append(targets.source()).append("`.\n\n");
        layers(sb, f.layers(), targets, layerChart);
        paths(sb, f.paths(), targets);
        gemms(sb, f.gemms(), targets);
        merges(sb, f.merges(), targets, mergeChart);
        quant(sb, f.quant());
        return sb.toString();
    }

    private static void paths(StringBuilder sb, List<LayerRow> rows, Targets targets) {
        if (rows.isEmpty()) {
            return;
        }
        sb.append("### Adapter overhead measured directly (adapterPathOnly)\n\n")
                .append("The same forward + backward with the two frozen GEMMs replaced by fixed buffers, so the time ")
                .append("is the adapter's overhead itself rather than a small difference of two large, noisy times; ")
                .append(String.format(
                        Locale.ROOT, "SBoRA / LoRA against the target <= %.2f.%n%n", targets.overheadRatioMax()));
        List<String> methods = Methods.in(rows.stream().map(LayerRow::times).toList());
        List<String> head = header(List.of("d", "tokens", "r"), methods);
        head.add("sbora-fa / lora");
        head.add("sbora-fb / lora");
        MarkdownTable t = new MarkdownTable(head);
        for (LayerRow row : rows) {
            List<String> cells = shapeCells(row.d(), row.tokens(), row.r());
            methods.forEach(m -> cells.add(timing(row.times().get(m), 1, "%.2f")));
            cells.add(atMost(row.ratioToLora(Methods.SBORA_FA), targets.overheadRatioMax()));
            cells.add(atMost(row.ratioToLora(Methods.SBORA_FB), targets.overheadRatioMax()));
            t.row(cells);
        }
        sb.append(t.render()).append('\n');
    }

    private static void layers(StringBuilder sb, List<LayerRow> rows, Targets targets, String chart) {
        if (rows.isEmpty()) {
            return;
        }
        sb.append("## One adapted layer, forward + backward (AdapterLayerBench)\n\n")
                .append("Milliseconds per step (± JMH's 99.9% error) on a frozen square d x d weight; ")
                .append("`base` is the frozen layer alone.\n\n");
        List<String> methods = Methods.in(rows.stream().map(LayerRow::times).toList());
        MarkdownTable times = new MarkdownTable(header(List.of("d", "tokens", "r"), methods));
        for (LayerRow row : rows) {
            List<String> cells = shapeCells(row.d(), row.tokens(), row.r());
            methods.forEach(m -> cells.add(timing(row.times().get(m), 1, "%.2f")));
            times.row(cells);
        }
        sb.append(times.render()).append('\n');
        if (chart != null) {
            sb.append("![AdapterLayerBench: time against r](").append(chart).append(")\n\n");
        }

        List<String> adapters =
                methods.stream().filter(m -> !m.equals(Methods.BASE)).toList();
        sb.append("### Adapter overhead\n\n")
                .append("Method time minus base time, ms, and SBoRA's overhead as a fraction of LoRA's ")
                .append(String.format(Locale.ROOT, "(target <= %.2f).%n%n", targets.overheadRatioMax()));
        List<String> head = header(List.of("d", "tokens", "r"), adapters);
        head.addAll(List.of("sbora-fa / lora", "sbora-fb / lora"));
        MarkdownTable over = new MarkdownTable(head);
        for (LayerRow row : rows) {
            List<String> cells = shapeCells(row.d(), row.tokens(), row.r());
            adapters.forEach(m -> cells.add(num(row.overheadMs(m), "%.2f")));
            cells.add(atMost(row.overheadRatioToLora(Methods.SBORA_FA), targets.overheadRatioMax()));
            cells.add(atMost(row.overheadRatioToLora(Methods.SBORA_FB), targets.overheadRatioMax()));
            over.row(cells);
        }
        sb.append(over.render()).append('\n');
    }

    private static void gemms(StringBuilder sb, List<GemmRow> rows, Targets targets) {
        if (rows.isEmpty()) {
            return;
        }
        sb.append("## Frozen layer against raw cblas_sgemm (GemmBench)\n\n")
                .append("The two GEMMs of the base layer's step (y = x·Wᵀ, dx = dy·W) called directly into ")
                .append("pre-allocated buffers; GFLOP/s counts 2·2·tokens·d² flops per step. ")
                .append(String.format(Locale.ROOT, "Target: base / cblas <= %.2f.%n%n", targets.baseOverGemmMax()));
        MarkdownTable t = new MarkdownTable("d", "tokens", "cblas ms", "GFLOP/s", "base ms", "base / cblas");
        for (GemmRow row : rows) {
            t.row(List.of(
                    Integer.toString(row.d()),
                    Integer.toString(row.tokens()),
                    timing(row.gemm(), 1, "%.2f"),
                    num(row.gflopsPerSecond(), "%.1f"),
                    num(row.baseMs(), "%.2f"),
                    atMost(row.baseRatio(), targets.baseOverGemmMax())));
        }
        sb.append(t.render()).append('\n');
    }

    private static void merges(StringBuilder sb, List<MergeRow> rows, Targets targets, String chart) {
        if (rows.isEmpty()) {
            return;
        }
        sb.append("## Merge + unmerge (MergeBench)\n\n")
                .append("Microseconds per merge followed by unmerge (one pair per invocation keeps W unchanged ")
                .append("and costs the same for every method; half of it is one merge).\n\n");
        List<String> methods = Methods.in(rows.stream().map(MergeRow::times).toList());
        MarkdownTable times = new MarkdownTable(header(List.of("d", "r"), methods));
        for (MergeRow row : rows) {
            List<String> cells = new ArrayList<>(List.of(Integer.toString(row.d()), Integer.toString(row.r())));
            methods.forEach(m -> cells.add(timing(row.times().get(m), 1e3, "%.1f")));
            times.row(cells);
        }
        sb.append(times.render()).append('\n');
        if (chart != null) {
            sb.append("![MergeBench: time against r](").append(chart).append(")\n\n");
        }
        sb.append("### Merge speed-up over LoRA and SBoRA bandwidth\n\n")
                .append(String.format(
                        Locale.ROOT,
                        "Targets: lora / sbora-fb >= %.0f, lora / sbora-fa >= %.0f.%n%n",
                        targets.mergeLoraOverFbMin(),
                        targets.mergeLoraOverFaMin()));
        MarkdownTable t = new MarkdownTable(
                "d",
                "r",
                "lora / sbora-fb",
                "lora / sbora-fa",
                "sbora-fb GB/s",
                "sbora-fa GB/s useful",
                "sbora-fa GB/s cache lines");
        for (MergeRow row : rows) {
            t.row(List.of(
                    Integer.toString(row.d()),
                    Integer.toString(row.r()),
                    atLeast(row.loraOver(Methods.SBORA_FB), targets.mergeLoraOverFbMin()),
                    atLeast(row.loraOver(Methods.SBORA_FA), targets.mergeLoraOverFaMin()),
                    num(row.sboraFbGbPerSecond(), "%.1f"),
                    num(row.sboraFaUsefulGbPerSecond(), "%.1f"),
                    num(row.sboraFaCacheLineGbPerSecond(), "%.1f")));
        }
        sb.append(t.render()).append('\n').append(MergeTraffic.describe()).append('\n');
    }

    private static void quant(StringBuilder sb, List<BenchFigures.QuantRow> rows) {
        if (rows.isEmpty()) {
            return;
        }
        sb.append("## NF4 base (QuantBench)\n\n")
                .append("One adapted layer's forward + backward over an f32 base and over an NF4 base dequantised on ")
                .append("the fly (ms), and the dequantisation of the whole d x d weight beside an f32 copy of the ")
                .append("same size, the memory-bandwidth yardstick of the same run.\n\n");
        List<String> keys = rows.stream()
                .flatMap(r -> r.steps().keySet().stream())
                .distinct()
                .sorted()
                .toList();
        List<String> head = new ArrayList<>(List.of("d", "tokens", "r"));
        head.addAll(keys);
        head.addAll(List.of("dequantize ms", "dequantize GB/s", "f32 copy GB/s"));
        MarkdownTable t = new MarkdownTable(head);
        for (BenchFigures.QuantRow row : rows) {
            List<String> cells = shapeCells(row.d(), row.tokens(), row.r());
            keys.forEach(k -> cells.add(timing(row.steps().get(k), 1, "%.2f")));
            cells.add(num(row.dequantMs(), "%.2f"));
            cells.add(num(row.dequantGbPerSecond(), "%.1f"));
            cells.add(num(row.copyGbPerSecond(), "%.1f"));
            t.row(cells);
        }
        sb.append(t.render()).append('\n');
    }

    private static List<String> header(List<String> keys, List<String> methods) {
        List<String> h = new ArrayList<>(keys);
        h.addAll(methods);
        return h;
    }

    private static List<String> shapeCells(int d, int tokens, int r) {
        return new ArrayList<>(List.of(Integer.toString(d), Integer.toString(tokens), Integer.toString(r)));
    }
}
