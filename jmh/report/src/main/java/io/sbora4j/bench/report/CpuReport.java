package io.sbora4j.bench.report;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * The CPU report ({@code bench-report cpu}): from a JMH result file, {@code adapter-layer.png} and {@code merge.png}
 * (time against r per method, one panel per d) and {@code results.md} (the tables, the ratios and the targets). A
 * chart with no results behind it is not written (and an old one of that name is removed), so the folder always
 * matches its {@code results.md}.
 *
 * <pre>
 * java -jar jmh/target/benchmarks.jar -rf json -rff results.json
 * java -jar jmh/report/target/bench-report.jar cpu results.json --out docs/bench
 * </pre>
 */
public final class CpuReport {

    public static final String LAYER_PNG = "adapter-layer.png";
    public static final String MERGE_PNG = "merge.png";
    public static final String MARKDOWN = "results.md";

    private CpuReport() {}

    /** What {@link #write} produced; a chart path is null when there were no results for it. */
    public record Written(Path markdown, Path layerChart, Path mergeChart, String text) {}

    /** {@code cpu <jmh.json> [--out DIR] [--data DIR]}: writes the report and prints its Markdown. */
    static void run(String[] args, PrintStream out) throws IOException {
        Args a = Args.parse(args, Set.of("--out", "--data"));
        Path json = Path.of(a.single("one JMH result file"));
        Targets targets = Targets.read(a.path("--data", DataFile.DEFAULT_DIR));
        Written w = write(json, a.path("--out", DataFile.DEFAULT_DIR), targets);
        out.print(w.text());
        out.println("written: " + w.markdown()
                + (w.layerChart() != null ? ", " + w.layerChart() : "")
                + (w.mergeChart() != null ? ", " + w.mergeChart() : ""));
    }

    /** Reads {@code json} and writes the charts and {@code results.md} into {@code outDir} (created if needed). */
    public static Written write(Path json, Path outDir, Targets targets) throws IOException {
        // Before any AWT class loads: there is no display on a benchmark machine.
        System.setProperty("java.awt.headless", "true");
        BenchFigures figures = BenchFigures.from(JmhResults.read(json));
        Files.createDirectories(outDir);
        Path layer = outDir.resolve(LAYER_PNG);
        Path merge = outDir.resolve(MERGE_PNG);
        boolean layerWritten = Charts.writeLayerChart(figures.layers(), layer);
        boolean mergeWritten = Charts.writeMergeChart(figures.merges(), merge);
        // A chart left from an earlier run would sit beside a results.md that no longer describes it.
        if (!layerWritten) {
            Files.deleteIfExists(layer);
        }
        if (!mergeWritten) {
            Files.deleteIfExists(merge);
        }
        String text =
                CpuMarkdown.render(figures, targets, layerWritten ? LAYER_PNG : null, mergeWritten ? MERGE_PNG : null);
        Path md = outDir.resolve(MARKDOWN);
        AtomicWrite.writeString(md, text);
        return new Written(md, layerWritten ? layer : null, mergeWritten ? merge : null, text);
    }
}
