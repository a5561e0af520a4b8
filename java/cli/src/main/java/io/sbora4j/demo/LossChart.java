package io.sbora4j.demo;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** A PNG of training-loss curves, one line per run (JFreeChart, headless). */
public final class LossChart {

    private LossChart() {}

    /** Writes the curves (loss per step) to {@code png}, atomically. */
    public static void write(String title, Map<String, List<Double>> curves, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (var e : curves.entrySet()) {
            XYSeries s = new XYSeries(e.getKey());
            List<Double> v = e.getValue();
            for (int i = 0; i < v.size(); i++) {
                s.add(i + 1, smooth(v, i));
            }
            data.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(
                title,
                "step",
                "training loss (moving average of 5)",
                data,
                PlotOrientation.VERTICAL,
                true,
                false,
                false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            r.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(r);
        Path tmp = Files.createTempFile(png.toAbsolutePath().getParent(), "chart", ".png.tmp");
        ChartUtils.saveChartAsPNG(tmp.toFile(), chart, 900, 560);
        Files.move(tmp, png, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static double smooth(List<Double> v, int i) {
        int from = Math.max(0, i - 4);
        double s = 0;
        for (int k = from; k <= i; k++) {
            s += v.get(k);
        }
        return s / (i - from + 1);
    }
}
