package io.sbora4j.bench.report;

import io.sbora4j.bench.report.BenchFigures.LayerRow;
import io.sbora4j.bench.report.BenchFigures.MergeRow;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * PNG charts of the CPU results with JFreeChart, headless: time against r, one line per method, one panel per d
 * (panels side by side in one image). The only class that touches JFreeChart or AWT: the GPU report never loads it.
 */
public final class Charts {

    /** Pixels of one panel. */
    static final int PANEL_WIDTH = 640;

    static final int PANEL_HEIGHT = 460;

    /** One colour per method, stable across charts; {@code base} is black, the floor the others stand on. */
    private static final Map<String, Color> COLOURS = Map.of(
            "base", Color.BLACK,
            "lora", new Color(0x1f77b4),
            "lora-fa", new Color(0x17becf),
            "dora", new Color(0x9467bd),
            "sbora-fa", new Color(0xd62728),
            "sbora-fb", new Color(0xff7f0e));

    private Charts() {}

    /** AdapterLayerBench time (ms) against r, linear axes; false (and no file) when there are no such results. */
    public static boolean writeLayerChart(List<LayerRow> rows, Path png) throws IOException {
        Map<String, List<LayerRow>> byPanel = group(rows, r -> "d = " + r.d() + ", tokens = " + r.tokens());
        List<JFreeChart> panels = new ArrayList<>();
        byPanel.forEach((title, panelRows) -> panels.add(chart(
                "Adapted layer, forward + backward: " + title,
                "ms per step",
                false,
                series(panelRows, LayerRow::r, LayerRow::times, 1))));
        return write(panels, png);
    }

    /** MergeBench time (µs) against r on a log axis, since LoRA's and SBoRA's differ by orders of magnitude. */
    public static boolean writeMergeChart(List<MergeRow> rows, Path png) throws IOException {
        Map<String, List<MergeRow>> byPanel = group(rows, r -> "d = " + r.d());
        List<JFreeChart> panels = new ArrayList<>();
        byPanel.forEach((title, panelRows) -> panels.add(chart(
                "Merge + unmerge: " + title,
                "µs per merge + unmerge (log)",
                true,
                series(panelRows, MergeRow::r, MergeRow::times, 1e3))));
        return write(panels, png);
    }

    private static <R> Map<String, List<R>> group(List<R> rows, Function<R, String> panel) {
        Map<String, List<R>> m = new LinkedHashMap<>();
        rows.forEach(
                r -> m.computeIfAbsent(panel.apply(r), k -> new ArrayList<>()).add(r));
        return m;
    }

    /** One (r, time × scale) series per method, in the report's method order. */
    private static <R> XYSeriesCollection series(
            List<R> rows, ToIntFunction<R> rank, Function<R, Map<String, Timing>> times, double scale) {
        Map<String, XYSeries> byMethod = new TreeMap<>(Methods.COMPARATOR);
        for (R row : rows) {
            times.apply(row)
                    .forEach((method, t) -> byMethod.computeIfAbsent(method, m -> new XYSeries(m, true, false))
                            .add(rank.applyAsInt(row), t.ms() * scale));
        }
        XYSeriesCollection c = new XYSeriesCollection();
        byMethod.values().forEach(c::addSeries);
        return c;
    }

    private static JFreeChart chart(String title, String yLabel, boolean logY, XYSeriesCollection data) {
        JFreeChart chart =
                ChartFactory.createXYLineChart(title, "r", yLabel, data, PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        NumberAxis x = (NumberAxis) plot.getDomainAxis();
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setAutoRangeIncludesZero(false);
        if (logY) {
            LogAxis y = new LogAxis(yLabel);
            y.setSmallestValue(1e-3);
            y.setTickUnit(new NumberTickUnit(1)); // one tick per decade, not at 10^2.6
            y.setNumberFormatOverride(new DecimalFormat("#,##0.###", DecimalFormatSymbols.getInstance(Locale.ROOT)));
            y.setMinorTickMarksVisible(true);
            plot.setRangeAxis(y);
        } else {
            ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(true); // overheads read off a zero axis
        }
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int s = 0; s < data.getSeriesCount(); s++) {
            String method = (String) data.getSeriesKey(s);
            Color c = COLOURS.get(method);
            if (c != null) {
                renderer.setSeriesPaint(s, c);
            }
            // SBoRA drawn heavier; LoRA-FA dashed, since its merge is LoRA's and would hide beneath it.
            renderer.setSeriesStroke(
                    s,
                    method.equals("lora-fa")
                            ? new BasicStroke(
                                    1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
                            : new BasicStroke(method.startsWith("sbora") ? 2.5f : 1.5f));
        }
        plot.setRenderer(renderer);
        return chart;
    }

    /** The panels side by side in one PNG; false when there are none. */
    private static boolean write(List<JFreeChart> panels, Path png) throws IOException {
        if (panels.isEmpty()) {
            return false;
        }
        BufferedImage img = new BufferedImage(PANEL_WIDTH * panels.size(), PANEL_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            for (int i = 0; i < panels.size(); i++) {
                panels.get(i).draw(g, new Rectangle2D.Double(i * PANEL_WIDTH, 0, PANEL_WIDTH, PANEL_HEIGHT));
            }
        } finally {
            g.dispose();
        }
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (!ImageIO.write(img, "png", png.toFile())) {
            throw new IOException("no PNG writer available for " + png);
        }
        return true;
    }
}
