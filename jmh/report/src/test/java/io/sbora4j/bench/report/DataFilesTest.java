package io.sbora4j.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docs/bench/targets.json and machines.json as committed, and what the tool says when one is wrong. */
class DataFilesTest {

    @Test
    void committedTargets() throws IOException {
        Targets t = Targets.read(TestData.DOCS);
        assertEquals(0.55, t.overheadRatioMax());
        assertEquals(1.15, t.baseOverGemmMax());
        assertEquals(50, t.mergeLoraOverFbMin());
        assertEquals(10, t.mergeLoraOverFaMin());
        assertEquals(1.0, t.peftLoraRatioMax());
        assertEquals(0.60, t.kernelBandwidthFractionMin());
        assertEquals(TestData.DOCS.resolve("targets.json").toString(), t.source());
    }

    @Test
    void committedH200() throws IOException {
        GpuConstants h200 = GpuConstants.read(TestData.DOCS, GpuConstants.DEFAULT);
        assertEquals("H200", h200.name());
        assertEquals(4300, h200.copyGbPerS());
        assertEquals(60e6, h200.l2Bytes());
        assertEquals(989, h200.peakBf16TflopPerS());
    }

    @Test
    void everyTargetHasADescription() throws IOException {
        var targets = DataFile.read(TestData.DOCS.resolve(Targets.FILE)).get("targets");
        targets.properties()
                .forEach(e -> assertTrue(
                        e.getValue().path("description").asText("").length() > 20, e.getKey() + " has no description"));
    }

    @Test
    void aMissingTargetOrMachineIsNamed(@TempDir Path dir) throws IOException {
        assertThrows(NoSuchFileException.class, () -> Targets.read(dir));
        Files.writeString(
                dir.resolve(Targets.FILE),
                Files.readString(TestData.DOCS.resolve(Targets.FILE))
                        .replace("base_over_gemm_max", "base_over_gem_max"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Targets.read(dir));
        assertTrue(e.getMessage().contains("'base_over_gemm_max'"), e.getMessage());

        Files.copy(TestData.DOCS.resolve(GpuConstants.FILE), dir.resolve(GpuConstants.FILE));
        e = assertThrows(IllegalArgumentException.class, () -> GpuConstants.read(dir, "h100"));
        assertTrue(
                e.getMessage().contains("no machine 'h100'") && e.getMessage().contains("[h200]"), e.getMessage());
    }
}
