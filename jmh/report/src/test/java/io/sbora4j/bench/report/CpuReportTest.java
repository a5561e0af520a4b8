package io.sbora4j.bench.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CPU report end to end on a small hand-written JMH result file: both PNGs and results.md come out. */
class CpuReportTest {

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @Test
    void writesChartsAndMarkdown(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("results.json");
        try (InputStream in = CpuReportTest.class.getResourceAsStream("/jmh-sample.json")) {
            assertNotNull(in, "test resource jmh-sample.json");
            Files.copy(in, json, StandardCopyOption.REPLACE_EXISTING);
        }
        Path out = dir.resolve("report");

        CpuReport.Written w = CpuReport.write(json, out, Targets.read(TestData.DOCS));

        assertEquals(out.resolve("results.md"), w.markdown());
        for (Path png : new Path[] {w.layerChart(), w.mergeChart()}) {
            assertNotNull(png);
            byte[] bytes = Files.readAllBytes(png);
            assertArrayEquals(PNG_SIGNATURE, Arrays.copyOf(bytes, 8), png + " is not a PNG");
            BufferedImage img = ImageIO.read(png.toFile());
            assertTrue(
                    img.getWidth() >= 600 && img.getHeight() >= 400,
                    png + " is " + img.getWidth() + "x" + img.getHeight());
        }
        String md = Files.readString(w.markdown());
        assertEquals(md, w.text());
        assertTrue(md.contains("![AdapterLayerBench: time against r](adapter-layer.png)"), md);
        assertTrue(md.contains("![MergeBench: time against r](merge.png)"), md);
        assertTrue(md.contains("Targets from `" + TestData.DOCS.resolve("targets.json") + "`."), md);
        // d=2048 r=16: overheads lora 30, sbora-fa 12, sbora-fb 15 ms.
        assertTrue(md.contains("| 30.00 |") && md.contains("0.40 ok") && md.contains("0.50 ok"), md);
        // d=2048 r=64: sbora-fa 28 / lora 48 = 0.58, over the 0.55 target.
        assertTrue(md.contains("0.58 MISSED"), md);
        // base (mean of 100 and 102) over cblas 92 ms; 4·1024·2048² flops in 92 ms.
        assertTrue(md.contains("1.10 ok") && md.contains("186.7"), md);
        // Merge, r=16: 4000 / 50 µs and 4000 / 200 µs; r=64: 4200 / 100 and 4200 / 600.
        assertTrue(md.contains("80.0 ok") && md.contains("20.0 ok"), md);
        assertTrue(md.contains("42.0 MISSED") && md.contains("7.0 MISSED"), md);
        // SBoRA-FB at d=2048, r=16: 2·(2·16·2048·4 + 16·2048·4) bytes in 50 µs.
        assertTrue(md.contains("15.7"), md);

        // A later run without MergeBench results must not leave the old merge chart beside its report.
        Files.writeString(json, """
                [{"benchmark": "io.sbora4j.bench.GemmBench.forwardBackwardGemms", "mode": "avgt",
                  "params": {"d": "2048", "tokens": "1024"},
                  "primaryMetric": {"score": 92.0, "scoreError": "NaN", "scoreUnit": "ms/op"}}]
                """);
        CpuReport.Written again = CpuReport.write(json, out, Targets.read(TestData.DOCS));
        assertNull(again.mergeChart());
        assertNull(again.layerChart());
        assertFalse(Files.exists(out.resolve(CpuReport.MERGE_PNG)));
        assertFalse(Files.readString(again.markdown()).contains(".png"));
    }

    @Test
    void theTargetsComeFromTheDataFolder(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("results.json");
        try (InputStream in = CpuReportTest.class.getResourceAsStream("/jmh-sample.json")) {
            Files.copy(in, json);
        }
        // The same targets but a looser overhead bound: d=2048 r=64's 0.58 now meets it.
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(
                data.resolve("targets.json"),
                Files.readString(TestData.DOCS.resolve("targets.json")).replace("\"value\": 0.55", "\"value\": 0.60"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int status = BenchReport.run(
                new String[] {
                    "cpu", json.toString(), "--out", dir.resolve("report").toString(), "--data", data.toString()
                },
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        String md = Files.readString(dir.resolve("report").resolve(CpuReport.MARKDOWN));
        assertTrue(md.contains("0.58 ok") && !md.contains("0.58 MISSED"), md);
        assertTrue(md.contains("(target <= 0.60)"), md);
        assertTrue(md.contains("Targets from `" + data.resolve("targets.json") + "`."), md);
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith(md), "the Markdown is printed too");
    }
}
