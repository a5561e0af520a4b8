package io.sbora4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BenchReport end to end on a small hand-written JMH result file: both PNGs and results.md come out. */
class BenchReportTest {

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @Test
    void writesChartsAndMarkdown(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("results.json");
        try (InputStream in = BenchReportTest.class.getResourceAsStream("/jmh-sample.json")) {
            assertNotNull(in, "test resource jmh-sample.json");
            Files.copy(in, json, StandardCopyOption.REPLACE_EXISTING);
        }
        Path out = dir.resolve("report");

        BenchReport.Written w = BenchReport.write(json, out);

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
        BenchReport.Written again = BenchReport.write(json, out);
        assertNull(again.mergeChart());
        assertNull(again.layerChart());
        assertFalse(Files.exists(out.resolve(BenchReport.MERGE_PNG)));
        assertFalse(Files.readString(again.markdown()).contains(".png"));
    }
}
