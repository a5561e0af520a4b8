package io.sbora4j.bench;

import io.sbora4j.bench.report.BenchFigures;
import io.sbora4j.bench.report.Charts;
import io.sbora4j.bench.report.JmhResults;
import io.sbora4j.bench.report.MarkdownReport;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns a JMH result file into the benchmark report: {@code adapter-layer.png} and {@code merge.png} (time against
 * r per method, one panel per d) and {@code results.md} (the tables, the ratios and the targets), and prints the
 * Markdown to standard output. A chart with no results behind it is not written (and an old one of that name is
 * removed), so the folder always matches its {@code results.md}.
 *
 * <pre>
 * java -jar jmh/target/benchmarks.jar -rf json -rff results.json
 * java -cp jmh/target/benchmarks.jar io.sbora4j.bench.BenchReport results.json docs/bench
 * </pre>
 */
public final class BenchReport {

    public static final String LAYER_PNG = "adapter-layer.png";
    public static final String MERGE_PNG = "merge.png";
    public static final String MARKDOWN = "results.md";

    private BenchReport() {}

    /** What {@link #write} produced; a chart path is null when there were no results for it. */
    public record Written(Path markdown, Path layerChart, Path mergeChart, String text) {}

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: BenchReport <jmh-results.json> [output-dir (default docs/bench)]");
            System.exit(2);
        }
        Path json = Path.of(args[0]);
        Path out = Path.of(args.length > 1 ? args[1] : "docs/bench");
        try {
            Written w = write(json, out);
            // UTF-8 whatever the locale: the tables use ± and the axis labels µs.
            PrintStream stdout =
                    new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
            stdout.print(w.text());
            stdout.println("written: " + w.markdown()
                    + (w.layerChart() != null ? ", " + w.layerChart() : "")
                    + (w.mergeChart() != null ? ", " + w.mergeChart() : ""));
            stdout.flush();
        } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
            System.err.println("BenchReport: " + e.getMessage());
            System.exit(1);
        }
    }

    /** Reads {@code json} and writes the charts and {@code results.md} into {@code outDir} (created if needed). */
    public static Written write(Path json, Path outDir) throws IOException {
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
        String text = MarkdownReport.render(figures, layerWritten ? LAYER_PNG : null, mergeWritten ? MERGE_PNG : null);
        Path md = outDir.resolve(MARKDOWN);
        Files.writeString(md, text, StandardCharsets.UTF_8);
        return new Written(md, layerWritten ? layer : null, mergeWritten ? merge : null, text);
    }
}
