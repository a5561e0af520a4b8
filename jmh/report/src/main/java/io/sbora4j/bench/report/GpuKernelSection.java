package io.sbora4j.bench.report;

import static io.sbora4j.bench.report.Cells.NONE;
import static io.sbora4j.bench.report.Cells.num;
import static io.sbora4j.bench.report.Cells.percent;
import static io.sbora4j.bench.report.Cells.timing;

import io.sbora4j.bench.report.GpuFigures.KernelRow;
import java.util.List;
import java.util.Locale;

/**
 * Section (d) of the GPU report: the SBoRA column kernels' time per launch, their GB/s of useful and of DRAM sector
 * bytes ({@link KernelTraffic}) as a fraction of the GPU's copy bandwidth, and the fused GEMMs' GFLOP/s.
 */
final class GpuKernelSection {

    private GpuKernelSection() {}

    /** Appends section (d), tallying the launches past the L2 in {@code columns} and {@code gemms}. */
    static void render(
            StringBuilder sb,
            List<KernelRow> rows,
            Targets targets,
            GpuConstants gpu,
            TargetTally columns,
            TargetTally gemms) {
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
}
