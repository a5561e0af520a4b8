package io.sbora4j.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU report end to end on a small synthetic GPU session: JMH result files in JMH 1.37's own format (two of them,
 * as the GPU script writes one per JMH command), a peer file as {@code bench/peers/peft_lora.py} writes it, and a
 * missing peer file.
 */
class GpuReportTest {

    private static final String LAYER = "io.sbora4j.bench.AdapterLayerBench";
    private static final String KERNELS = "io.sbora4j.bench.GatherScatterBench";
    private static final String MERGE = "io.sbora4j.bench.MergeBench";

    /** The adapted layer in bf16 (fused and unfused), one f32 row with DoRA, and a cpu result to leave out. */
    private static String layerJson() {
        List<String> e = new ArrayList<>();
        // forwardBackward, bf16, 4096 x 4096, 4096 tokens: base 2.0 ms (measured at r=32 only)
        e.add(layer("forwardBackward", "base", 32, "bf16", "fused", 2.0));
        e.add(layer("forwardBackward", "lora", 32, "bf16", "fused", 3.0));
        e.add(layer("forwardBackward", "sbora-fa", 32, "bf16", "fused", 2.4)); // overhead 0.4 / 1.0
        e.add(layer("forwardBackward", "sbora-fb", 32, "bf16", "fused", 2.5)); // 0.5 / 1.0
        e.add(layer("forwardBackward", "lora", 64, "bf16", "fused", 3.2));
        e.add(layer("forwardBackward", "sbora-fa", 64, "bf16", "fused", 2.7)); // 0.7 / 1.2 = 0.58
        e.add(layer("forwardBackward", "sbora-fb", 64, "bf16", "fused", 2.6)); // 0.6 / 1.2 = 0.50
        e.add(layer("forwardBackward", "sbora-fa", 32, "bf16", "unfused", 2.8)); // 0.8 / 1.0, not in the tally
        // adapterPathOnly: base's is nothing and must be ignored
        e.add(layer("adapterPathOnly", "base", 32, "bf16", "fused", 0.0001));
        e.add(layer("adapterPathOnly", "lora", 32, "bf16", "fused", 1.0));
        e.add(layer("adapterPathOnly", "sbora-fa", 32, "bf16", "fused", 0.5)); // 0.50
        e.add(layer("adapterPathOnly", "sbora-fb", 32, "bf16", "fused", 0.45)); // 0.45
        e.add(layer("adapterPathOnly", "lora", 64, "bf16", "fused", 1.1));
        e.add(layer("adapterPathOnly", "sbora-fa", 64, "bf16", "fused", 0.66)); // 0.60
        e.add(layer("adapterPathOnly", "sbora-fb", 64, "bf16", "fused", 0.55)); // 0.50
        // f32 with DoRA (DoRA refuses bf16)
        e.add(layer("forwardBackward", "base", 32, "f32", "fused", 5.0));
        e.add(layer("forwardBackward", "lora", 32, "f32", "fused", 6.0));
        e.add(layer("forwardBackward", "dora", 32, "f32", "fused", 9.0));
        e.add(layer("forwardBackward", "sbora-fa", 32, "f32", "fused", 5.5)); // 0.5 / 1.0
        // another device: left out with a note
        e.add(entry(
                LAYER + ".forwardBackward",
                "ms/op",
                400.0,
                "d",
                "4096",
                "device",
                "cpu",
                "dout",
                "0",
                "dtype",
                "f32",
                "method",
                "lora",
                "r",
                "32",
                "route",
                "fused",
                "tokens",
                "4096"));
        return "[\n" + String.join(",\n", e) + "\n]\n";
    }

    /** The column kernels (µs/op) and the merges (µs/op). */
    private static String kernelAndMergeJson() {
        List<String> e = new ArrayList<>();
        e.add(kernel("gather", "bf16", 131072, 32, 50.0)); // 142.6 MB of sectors: 2852 GB/s, 0.66
        e.add(kernel("scatter", "bf16", 131072, 32, 120.0)); // 276.8 MB: 2307 GB/s, 0.54
        e.add(kernel("gather", "bf16", 4096, 32, 4.0)); // 4.5 MB: in the L2
        e.add(kernel("gather-gemm", "bf16", 131072, 32, 1000.0)); // 2282 MB: 0.53
        e.add(merge("lora", 32, 40.0));
        e.add(merge("sbora-fa", 32, 10.0));
        e.add(merge("sbora-fb", 32, 8.0));
        return "[\n" + String.join(",\n", e) + "\n]\n";
    }

    /** As bench/peers/peft_lora.py writes it (base with r = 1, dtype as torch prints it). */
    private static final String PEERS_BF16 = """
            {
             "torch": "2.11.0+cu130",
             "device": "NVIDIA H200",
             "time": "2026-12-01T10:00:00Z",
             "results": [
              {"method": "base", "d_in": 4096, "d_out": 4096, "r": 1, "tokens": 4096, "dtype": "torch.bfloat16",
               "median_ms": 1.9, "min_ms": 1.85},
              {"method": "lora", "d_in": 4096, "d_out": 4096, "r": 32, "tokens": 4096, "dtype": "torch.bfloat16",
               "median_ms": 2.6, "min_ms": 2.5},
              {"method": "lora", "d_in": 4096, "d_out": 4096, "r": 64, "tokens": 4096, "dtype": "torch.bfloat16",
               "median_ms": 2.5, "min_ms": 2.4},
              {"method": "dora", "d_in": 4096, "d_out": 4096, "r": 32, "tokens": 4096, "dtype": "torch.bfloat16",
               "median_ms": 4.0, "min_ms": 3.9},
              {"method": "lora", "d_in": 4096, "d_out": 11008, "r": 32, "tokens": 4096, "dtype": "torch.bfloat16",
               "median_ms": 6.0, "min_ms": 5.9}
             ]
            }
            """;

    @Test
    void reportsRatiosTargetsAndPeers(@TempDir Path dir) throws IOException {
        Path layers = Files.writeString(dir.resolve("jmh-layer.json"), layerJson());
        Path kernels = Files.writeString(dir.resolve("jmh-kernels.json"), kernelAndMergeJson());
        Path peers = Files.writeString(dir.resolve("peers-bf16.json"), PEERS_BF16);
        Path out = dir.resolve("out").resolve("gpu-report.md");
        Path merged = dir.resolve("out").resolve("jmh-gpu.json");

        String md = GpuReport.write(GpuReport.Options.parse(new String[] {
            layers + "," + kernels,
            "--peers",
            peers + "," + dir.resolve("peers-f32.json"),
            "--machine",
            "NVIDIA H200 test",
            "--date",
            "2026-12-01",
            "--merged-jmh",
            merged.toString(),
            "--data",
            TestData.DOCS.toString(),
            "--out",
            out.toString()
        }));

        assertEquals(md, Files.readString(out));
        assertTrue(md.contains("Machine: NVIDIA H200 test. Date: 2026-12-01. Device: cuda."), md);
        assertTrue(
                md.contains("From `" + TestData.DOCS.resolve("targets.json")
                        + "`; bandwidths against the h200 entry of `" + TestData.DOCS.resolve("machines.json") + "`."),
                md);

        // The summary: one line per target, fused rows only.
        assertTrue(
                md.contains("- [MISSED] SBoRA-FA adapter overhead <= 0.55 x LoRA's, adapter path measured "
                        + "directly (route fused): 1 of 2 meet it (worst 0.60 at bf16 fused 4096x4096 T=4096 r=64)"),
                md);
        assertTrue(
                md.contains("- [met] SBoRA-FB adapter overhead <= 0.55 x LoRA's, adapter path measured "
                        + "directly (route fused): 2 of 2 meet it (worst 0.50 at bf16 fused 4096x4096 T=4096 r=64)"),
                md);
        assertTrue(
                md.contains("- [MISSED] SBoRA-FA adapter overhead <= 0.55 x LoRA's, as fwd+bwd - base (route "
                        + "fused): 2 of 3 meet it (worst 0.58 at bf16 fused 4096x4096 T=4096 r=64)"),
                md);
        assertTrue(
                md.contains("- [met] SBoRA-FB adapter overhead <= 0.55 x LoRA's, as fwd+bwd - base (route "
                        + "fused): 2 of 2 meet it"),
                md);
        assertTrue(
                md.contains("- [MISSED] SBoRA-FA fwd+bwd no slower than PyTorch + PEFT LoRA's (ratio <= 1.00): "
                        + "1 of 2 meet it (worst 1.08 at bf16 fused 4096x4096 T=4096 r=64)"),
                md);
        assertTrue(
                md.contains("- [MISSED] gather and scatter DRAM traffic >= 60% of 4300 GB/s (sector bytes, "
                        + "launches past the L2): 1 of 2 meet it (worst 0.54 at bf16 scatter T=131072 d=4096 r=32)"),
                md);
        assertTrue(
                md.contains("- [MISSED] fused gather-gemm and gemm-scatter DRAM traffic >= 60% of 4300 GB/s "
                        + "(sector bytes, launches past the L2): 0 of 1 meet it"),
                md);

        // (a): times with errors, base shared by every row of its shape, lora filled into the unfused row.
        assertTrue(md.contains("| bf16  |   fused | 4096 x 4096 |   4096 |  32 | 2.000 ± 0.020 | 3.000 ± 0.030 |"), md);
        assertTrue(md.contains("| bf16  | unfused | 4096 x 4096 |   4096 |  32 | 2.000 ± 0.020 | 3.000 ± 0.030 |"), md);
        assertTrue(md.contains("9.000 ± 0.090"), "f32 DoRA: " + md);
        // (b): the direct measure and the difference, with verdicts; the unfused row's verdict shown but not tallied.
        assertTrue(md.contains("0.50 ok") && md.contains("0.45 ok") && md.contains("0.60 MISSED"), md);
        assertTrue(md.contains("0.40 ok") && md.contains("0.58 MISSED") && md.contains("0.80 MISSED"), md);
        // (c): 2.4 / 2.6 and 2.7 / 2.5; ours lora / PEFT lora 3.0 / 2.6; a PEFT shape we did not run.
        assertTrue(md.contains("0.92 ok") && md.contains("1.08 MISSED") && md.contains("1.15"), md);
        assertTrue(md.contains("| bf16  | 4096 x 11008 |   4096 |  32 |         - |     6.000 |"), md);
        assertTrue(md.contains("peers-bf16.json: torch 2.11.0+cu130 on NVIDIA H200, 2026-12-01T10:00:00Z"), md);
        // (d): GB/s and % of peak both ways; the small launch is latency, not bandwidth.
        assertTrue(md.contains(" 2852 |") && md.contains("0.66 ok") && md.contains("0.54 MISSED"), md);
        assertTrue(md.contains(" 336 |") && md.contains("8%"), "useful GB/s of the gather: " + md);
        assertTrue(md.contains("in L2"), md);
        assertTrue(md.contains("34360"), "gather-gemm GFLOP/s: " + md);
        // (e): µs per merge + unmerge and the speed-ups.
        assertTrue(md.contains("40.0 ± 0.4") && md.contains(" 4.0 |") && md.contains(" 5.0 |"), md);
        // Notes: the missing peer file and the cpu result.
        assertTrue(md.contains("peers-f32.json: not found"), md);
        assertTrue(md.contains("1 result(s) on a device other than cuda left out."), md);

        // The merged JMH file holds every entry of both inputs and makes the same tables again.
        assertEquals(20 + 7, JmhResults.read(merged).size());
        Path again = dir.resolve("again.md");
        String md2 = GpuReport.write(GpuReport.Options.parse(new String[] {
            merged.toString(),
            "--peers",
            peers.toString(),
            "--machine",
            "NVIDIA H200 test",
            "--date",
            "2026-12-01",
            "--data",
            TestData.DOCS.toString(),
            "--out",
            again.toString()
        }));
        assertEquals(section(md, "## Targets"), section(md2, "## Targets"));
        // Written atomically: nothing but the outputs is left in the folder.
        try (Stream<Path> files = Files.list(out.getParent())) {
            assertEquals(
                    List.of("gpu-report.md", "jmh-gpu.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void missingInputsGiveNotesNotAnError(@TempDir Path dir) throws IOException {
        Path empty = Files.writeString(dir.resolve("empty.json"), "");
        Path out = dir.resolve("gpu-report.md");
        Path merged = dir.resolve("jmh-gpu.json");
        String md = GpuReport.write(GpuReport.Options.parse(new String[] {
            dir.resolve("none.json") + "," + empty,
            "--peers",
            dir.resolve("peers-bf16.json").toString(),
            "--merged-jmh",
            merged.toString(),
            "--data",
            TestData.DOCS.toString(),
            "--out",
            out.toString()
        }));
        assertTrue(Files.exists(out));
        assertFalse(Files.exists(merged), "no JMH file was read, so none is written");
        assertTrue(md.contains("- [not measured] SBoRA-FA fwd+bwd no slower than PyTorch + PEFT LoRA's"), md);
        assertTrue(md.contains("Not measured: no AdapterLayerBench.forwardBackward results in the inputs."), md);
        assertTrue(md.contains("Not measured: no GatherScatterBench results in the inputs."), md);
        assertTrue(md.contains("Not measured: no MergeBench results in the inputs."), md);
        assertTrue(md.contains("Not measured: no peer results"), md);
        assertTrue(md.contains("none.json: not found") && md.contains("empty.json: empty"), md);
        assertTrue(md.contains("Machine: not given."), md);
    }

    @Test
    void aNegativeOverheadIsNoiseNotATargetMet(@TempDir Path dir) throws IOException {
        Path json = Files.writeString(
                dir.resolve("jmh.json"),
                "[\n"
                        + String.join(
                                ",\n",
                                layer("forwardBackward", "base", 32, "bf16", "fused", 2.0),
                                layer("forwardBackward", "lora", 32, "bf16", "fused", 2.5),
                                layer("forwardBackward", "sbora-fa", 32, "bf16", "fused", 1.9))
                        + "\n]\n");
        String md = GpuReport.write(GpuReport.Options.parse(new String[] {
            json.toString(),
            "--data",
            TestData.DOCS.toString(),
            "--out",
            dir.resolve("r.md").toString()
        }));
        assertTrue(md.contains("-0.20 noise"), md);
        assertTrue(md.contains("- [not measured] SBoRA-FA adapter overhead <= 0.55 x LoRA's, as fwd+bwd - base"), md);
    }

    @Test
    void commandLine() {
        GpuReport.Options o =
                GpuReport.Options.parse(new String[] {"a.json,b.json", "--peers", "p.json", "--out", "out.md"});
        assertEquals(List.of(Path.of("a.json"), Path.of("b.json")), o.jmh());
        assertEquals(List.of(Path.of("p.json")), o.peers());
        assertEquals(Path.of("out.md"), o.out());
        assertEquals(Path.of("docs", "bench"), o.data());
        assertEquals("h200", o.gpu());
        GpuReport.Options d = GpuReport.Options.parse(new String[] {"a.json"});
        assertEquals(Path.of("gpu-report.md"), d.out());
        assertEquals(List.of(), d.peers());
        assertThrows(Args.UsageError.class, () -> GpuReport.Options.parse(new String[] {}));
        assertThrows(Args.UsageError.class, () -> GpuReport.Options.parse(new String[] {"a.json", "b.md"}));
        assertThrows(Args.UsageError.class, () -> GpuReport.Options.parse(new String[] {"a.json", "--date"}));
        assertThrows(Args.UsageError.class, () -> GpuReport.Options.parse(new String[] {"a", "--x", "b"}));
    }

    @Test
    void bytesPerKernel() {
        int t = 4096, d = 4096, r = 32;
        assertEquals(2L * t * r * 2, KernelTraffic.usefulBytes("gather", t, d, r, 2));
        assertEquals(3L * t * r * 4, KernelTraffic.usefulBytes("scatter", t, d, r, 4));
        assertEquals(
                (long) t * r * 2 + 4L * d * r + 2L * t * d * 2, KernelTraffic.usefulBytes("gather-gemm", t, d, r, 2));
        assertEquals(
                (long) t * d * 4 + 4L * d * r + 2L * t * r * 4, KernelTraffic.usefulBytes("gemm-scatter", t, d, r, 4));
        assertEquals(32L * t * r + (long) t * r * 2, KernelTraffic.sectorBytes("gather", t, d, r, 2));
        assertEquals(64L * t * r + (long) t * r * 4, KernelTraffic.sectorBytes("scatter", t, d, r, 4));
        assertEquals(
                (long) t * d * 2 + 4L * d * r + 64L * t * r, KernelTraffic.sectorBytes("gemm-scatter", t, d, r, 2));
        assertEquals(2.0 * t * r * d, KernelTraffic.flops("gemm-scatter", t, d, r));
        assertEquals(0, KernelTraffic.flops("gather", t, d, r));
        assertThrows(IllegalArgumentException.class, () -> KernelTraffic.usefulBytes("copy", t, d, r, 4));
    }

    private static String section(String md, String heading) {
        int from = md.indexOf(heading);
        return md.substring(from, md.indexOf("\n## ", from + 1));
    }

    private static String layer(String bench, String method, int r, String dtype, String route, double ms) {
        return entry(
                LAYER + "." + bench,
                "ms/op",
                ms,
                "d",
                "4096",
                "device",
                "cuda",
                "dout",
                "0",
                "dtype",
                dtype,
                "method",
                method,
                "r",
                Integer.toString(r),
                "route",
                route,
                "tokens",
                "4096");
    }

    private static String kernel(String kernel, String dtype, int tokens, int r, double us) {
        return entry(
                KERNELS + ".launch",
                "us/op",
                us,
                "d",
                "4096",
                "device",
                "cuda",
                "dtype",
                dtype,
                "kernel",
                kernel,
                "r",
                Integer.toString(r),
                "tokens",
                Integer.toString(tokens));
    }

    private static String merge(String method, int r, double us) {
        return entry(
                MERGE + ".mergeUnmerge",
                "us/op",
                us,
                "d",
                "4096",
                "device",
                "cuda",
                "dtype",
                "bf16",
                "method",
                method,
                "r",
                Integer.toString(r));
    }

    /** One result as JMH 1.37 writes it (docs/bench/results-2026-11-28-cpu.json), error 1% of the score. */
    private static String entry(String benchmark, String unit, double score, String... params) {
        StringBuilder p = new StringBuilder();
        for (int i = 0; i < params.length; i += 2) {
            p.append(i == 0 ? "" : ",\n")
                    .append("   \"")
                    .append(params[i])
                    .append("\": \"")
                    .append(params[i + 1])
                    .append('"');
        }
        double err = score * 0.01;
        return String.format(
                Locale.ROOT,
                """
                {
                 "jmhVersion": "1.37",
                 "benchmark": "%s",
                 "mode": "avgt",
                 "threads": 1,
                 "forks": 1,
                 "jvm": "/b/runtime/bin/java",
                 "jvmArgs": ["--enable-native-access=ALL-UNNAMED"],
                 "jdkVersion": "25.0.3",
                 "vmName": "OpenJDK 64-Bit Server VM",
                 "vmVersion": "25.0.3+9-LTS",
                 "warmupIterations": 1,
                 "warmupTime": "300 ms",
                 "warmupBatchSize": 1,
                 "measurementIterations": 3,
                 "measurementTime": "300 ms",
                 "measurementBatchSize": 1,
                 "params": {
                %s
                 },
                 "primaryMetric": {
                  "score": %s,
                  "scoreError": %s,
                  "scoreConfidence": [%s, %s],
                  "scorePercentiles": {"0.0": %s, "50.0": %s, "100.0": %s},
                  "scoreUnit": "%s",
                  "rawData": [[%s, %s, %s]]
                 },
                 "secondaryMetrics": {}
                }""",
                benchmark,
                p,
                score,
                err,
                score - err,
                score + err,
                score,
                score,
                score,
                unit,
                score,
                score,
                score);
    }
}
