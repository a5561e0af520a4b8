package io.sbora4j.bench.report;

import io.sbora4j.bench.report.BenchFigures.GemmRow;
import io.sbora4j.bench.report.BenchFigures.LayerRow;
import io.sbora4j.bench.report.BenchFigures.MergeRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The results as Markdown: time tables, the derived ratios, and each ratio against its {@link Targets target}
 * ("ok" or "MISSED"), with the charts embedded when they were written. Columns are padded so that the same text
 * reads well printed to a terminal.
 */
public final class MarkdownReport {

    private static final String NONE = "-";

    private MarkdownReport() {}

    /**
     * The report of {@code f}.
     *
     * @param layerChart file name of the AdapterLayerBench chart next to the Markdown file, or null for none
     * @param mergeChart file name of the MergeBench chart, or null for none
     */
    public static String render(BenchFigures f, String layerChart, String mergeChart) {
        StringBuilder sb = new StringBuilder("# sbora4j benchmark results\n\n");
        if (f.isEmpty()) {
            return sb.append("No AdapterLayerBench, GemmBench or MergeBench results were found.\n")
                    .toString();
        }
        layers(sb, f.layers(), layerChart);
        paths(sb, f.paths());
        gemms(sb, f.gemms());
        merges(sb, f.merges(), mergeChart);
        quant(sb, f.quant());
        return sb.toString();
    }

    private static void paths(StringBuilder sb, List<LayerRow> rows) {
        if (rows.isEmpty()) {
            return;
        }
        sb.append("### Adapter overhead measured directly (adapterPathOnly)\n\n")
                .append("The same forward + backward with the two frozen GEMMs replaced by fixed buffers, so the time ")
                .append("is the adapter's overhead itself rather than a small difference of two large, noisy times; ")
                .append(String.format(
                        Locale.ROOT, "SBoRA / LoRA against the target <= %.2f.%n%n", Targets.OVERHEAD_RATIO_MAX));
        List<String> methods =
                BenchFigures.methodsIn(rows.stream().map(LayerRow::times).toList());
        List<String> head = header(List.of("d", "tokens", "r"), methods);
        head.add("sbora-fa / lora");
        head.add("sbora-fb / lora");
        MarkdownTable t = new MarkdownTable(head);
        for (LayerRow row : rows) {
            List<String> cells = shapeCells(row.d(), row.tokens(), row.r());
            methods.forEach(m -> cells.add(timing(row.times().get(m), 1, "%.2f")));
            cells.add(atMost(row.ratioToLora(BenchFigures.SBORA_FA), Targets.OVERHEAD_RATIO_MAX));
            cells.add(atMost(row.ratioToLora(BenchFigures.SBORA_FB), Targets.OVERHEAD_RATIO_MAX));
            t.row(cells);
        }
        sb.append(t.render()).append('\n');
    }

    private static void layers(StringBuilder sb, List<LayerRow> rows, String chart) {
        if (rows.isEmpty()) {
            return;
        }
        sb.append("## One adapted layer, forward + backward (AdapterLayerBench)\n\n")
                .append("Milliseconds per step (± JMH's 99.9% error) on a frozen square d x d weight; ")
                .append("`base` is the frozen layer alone.\n\n");
        List<String> methods =
                BenchFigures.methodsIn(rows.stream().map(LayerRow::times).toList());
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
                methods.stream().filter(m -> !m.equals(BenchFigures.BASE)).toList();
        sb.append("### Adapter overhead\n\n")
                .append("Method time minus base time, ms, and SBoRA's overhead as a fraction of LoRA's ")
                .append(String.format(Locale.ROOT, "(target <= %.2f).%n%n", Targets.OVERHEAD_RATIO_MAX));
        List<String> head = header(List.of("d", "tokens", "r"), adapters);
        head.addAll(List.of("sbora-fa / lora", "sbora-fb / lora"));
        MarkdownTable over = new MarkdownTable(head);
        for (LayerRow row : rows) {
            List<String> cells = shapeCells(row.d(), row.tokens(), row.r());
            adapters.forEach(m -> cells.add(num(row.overheadMs(m), "%.2f")));
            cells.add(atMost(row.overheadRatioToLora(BenchFigures.SBORA_FA), Targets.OVERHEAD_RATIO_MAX));
            cells.add(atMost(row.overheadRatioToLora(BenchFigures.SBORA_FB), Targets.OVERHEAD_RATIO_MAX));
            over.row(cells);
        }
        sb.append(over.render()).append('\n');
    }

    private static void gemms(StringBuilder sb, List<GemmRow> rows) {
        if (rows.isEmpty()) {
            return;
        }
        sb.append("## Frozen layer against raw cblas_sgemm (GemmBench)\n\n")
                .append("The two GEMMs of the base layer's step (y = x·Wᵀ, dx = dy·W) called directly into ")
                .append("pre-allocated buffers; GFLOP/s counts 2·2·tokens·d² flops per step. ")
                .append(String.format(Locale.ROOT, "Target: base / cblas <= %.2f.%n%n", Targets.BASE_OVER_GEMM_MAX));
        MarkdownTable t = new MarkdownTable("d", "tokens", "cblas ms", "GFLOP/s", "base ms", "base / cblas");
        for (GemmRow row : rows) {
            t.row(List.of(
                    Integer.toString(row.d()),
                    Integer.toString(row.tokens()),
                    timing(row.gemm(), 1, "%.2f"),
                    num(row.gflopsPerSecond(), "%.1f"),
                    num(row.baseMs(), "%.2f"),
                    atMost(row.baseRatio(), Targets.BASE_OVER_GEMM_MAX)));
        }
        sb.append(t.render()).append('\n');
    }

    private static void merges(StringBuilder sb, List<MergeRow> rows, String chart) {
        if (rows.isEmpty()) {
            return;
        }
        sb.append("## Merge + unmerge (MergeBench)\n\n")
                .append("Microseconds per merge followed by unmerge (one pair per invocation keeps W unchanged ")
                .append("and costs the same for every method; half of it is one merge).\n\n");
        List<String> methods =
                BenchFigures.methodsIn(rows.stream().map(MergeRow::times).toList());
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
                        Targets.MERGE_LORA_OVER_FB_MIN,
                        Targets.MERGE_LORA_OVER_FA_MIN));
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
                    atLeast(row.loraOver(BenchFigures.SBORA_FB), Targets.MERGE_LORA_OVER_FB_MIN),
                    atLeast(row.loraOver(BenchFigures.SBORA_FA), Targets.MERGE_LORA_OVER_FA_MIN),
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

    /** "12.34 ± 0.56" in ms × {@code scale}, the error left out when JMH gave none. */
    private static String timing(Timing t, double scale, String fmt) {
        if (t == null) {
            return NONE;
        }
        String v = num(t.ms() * scale, fmt);
        return Double.isNaN(t.errorMs()) ? v : v + " ± " + num(t.errorMs() * scale, fmt);
    }

    private static String atMost(double v, double max) {
        return Double.isNaN(v) ? NONE : num(v, "%.2f") + (v <= max ? " ok" : " MISSED");
    }

    private static String atLeast(double v, double min) {
        return Double.isNaN(v) ? NONE : num(v, "%.1f") + (v >= min ? " ok" : " MISSED");
    }

    private static String num(double v, String fmt) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, fmt, v) : NONE;
    }
}
