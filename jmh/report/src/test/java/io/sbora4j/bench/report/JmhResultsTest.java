package io.sbora4j.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Parsing JMH JSON and normalising its units, and the figures derived from it. */
class JmhResultsTest {

    @Test
    void readsNamesParamsAndConvertsUnits() throws IOException {
        List<BenchResult> rs = JmhResults.parse("""
                [{"benchmark": "io.sbora4j.bench.MergeBench.mergeUnmerge", "mode": "avgt",
                  "params": {"method": "sbora-fb", "d": "4096", "r": "16"},
                  "primaryMetric": {"score": 250.0, "scoreError": "NaN", "scoreUnit": "us/op"}},
                 {"benchmark": "io.sbora4j.bench.GemmBench.forwardBackwardGemms", "mode": "thrpt",
                  "params": {"d": "2048", "tokens": "1024"},
                  "primaryMetric": {"score": 20.0, "scoreError": 2.0, "scoreUnit": "ops/s"}}]
                """);
        assertEquals(2, rs.size());
        BenchResult merge = rs.get(0);
        assertEquals("MergeBench", merge.benchmark());
        assertEquals("mergeUnmerge", merge.method());
        assertEquals(4096, merge.intParam("d"));
        assertEquals("sbora-fb", merge.param("method"));
        assertEquals(0.25, merge.ms(), 1e-12);
        assertTrue(Double.isNaN(merge.errorMs()));
        BenchResult gemm = rs.get(1);
        assertEquals(50.0, gemm.ms(), 1e-9); // 20 ops/s = 50 ms/op
        assertEquals(5.0, gemm.errorMs(), 1e-9); // 10% relative error carried over
    }

    @Test
    void rejectsWhatIsNotAResultFile() {
        assertThrows(IllegalArgumentException.class, () -> JmhResults.parse("{\"benchmark\": \"x\"}"));
        assertThrows(IllegalArgumentException.class, () -> JmhResults.toMsPerOp(1, "furlongs"));
    }

    @Test
    void derivesOverheadRatiosAndBaseMean() {
        List<BenchResult> rs = List.of(
                layer("base", 16, 100),
                layer("lora", 16, 140),
                layer("sbora-fa", 16, 110),
                layer("base", 64, 104),
                layer("lora", 64, 160),
                new BenchResult(
                        "GemmBench", "forwardBackwardGemms", "avgt", Map.of("d", "8", "tokens", "4"), 51, Double.NaN));
        BenchFigures f = BenchFigures.from(rs);
        assertEquals(2, f.layers().size());
        BenchFigures.LayerRow r16 = f.layers().get(0);
        assertEquals(16, r16.r());
        assertEquals(0.25, r16.overheadRatioToLora("sbora-fa"), 1e-12);
        assertTrue(Double.isNaN(r16.overheadRatioToLora("sbora-fb")), "not measured: NaN");
        assertEquals(List.of("base", "lora", "sbora-fa"), Methods.in(List.of(r16.times())));
        BenchFigures.GemmRow g = f.gemms().get(0);
        assertEquals(102, g.baseMs(), 1e-12);
        assertEquals(2.0, g.baseRatio(), 1e-12);
    }

    private static BenchResult layer(String method, int r, double ms) {
        return new BenchResult(
                "AdapterLayerBench",
                "forwardBackward",
                "avgt",
                Map.of("method", method, "d", "8", "tokens", "4", "r", Integer.toString(r)),
                ms,
                0.1);
    }
}
