package io.sbora4j.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: subcommands, exit statuses, and the gpu report on a runtime without charts. */
class BenchReportTest {

    private record Result(int status, String out, String err) {}

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = BenchReport.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void statuses(@TempDir Path dir) {
        assertEquals(2, run().status());
        assertEquals(0, run("--help").status());
        Result unknown = run("plot", "x.json");
        assertEquals(2, unknown.status());
        assertTrue(
                unknown.err().contains("unknown command 'plot'")
                        && unknown.err().contains("usage:"),
                unknown.err());
        assertEquals(2, run("cpu", "a.json", "b.json").status());
        assertEquals(2, run("gpu", "a.json", "--colour", "red").status());
        // A data folder without targets.json: a failure, named, not a usage error.
        Result noData = run(
                "gpu",
                "a.json",
                "--data",
                dir.toString(),
                "--out",
                dir.resolve("r.md").toString());
        assertEquals(1, noData.status());
        assertTrue(noData.err().contains("targets.json"), noData.err());
        assertFalse(Files.exists(dir.resolve("r.md")));
    }

    /**
     * The GPU machine's runtime has neither java.desktop nor JFreeChart: the gpu report runs in a JVM limited to the
     * modules of {@code sbora bundle --no-charts}, on a class path of this module's classes and Jackson only.
     */
    @Test
    void gpuReportNeedsNoChartsNorDesktop(@TempDir Path dir) throws IOException, InterruptedException {
        Path json = Files.writeString(dir.resolve("jmh.json"), """
                [{"benchmark": "io.sbora4j.bench.MergeBench.mergeUnmerge", "mode": "avgt",
                  "params": {"method": "lora", "d": "4096", "r": "32", "device": "cuda", "dtype": "bf16"},
                  "primaryMetric": {"score": 40.0, "scoreError": 0.4, "scoreUnit": "us/op"}}]
                """);
        String cp = Stream.of(BenchReport.class, ObjectMapper.class, JsonParser.class, JsonAutoDetect.class)
                .map(BenchReportTest::location)
                .collect(Collectors.joining(File.pathSeparator));
        assertFalse(cp.contains("jfreechart"), cp);
        Path out = dir.resolve("gpu-report.md");
        Process p = new ProcessBuilder(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "--limit-modules",
                        "java.base,java.logging,java.management,java.xml,jdk.unsupported",
                        "-cp",
                        cp,
                        BenchReport.class.getName(),
                        "gpu",
                        json.toString(),
                        "--data",
                        TestData.DOCS.toString(),
                        "--out",
                        out.toString()))
                .redirectErrorStream(true)
                .start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), log);
        String md = Files.readString(out);
        assertTrue(md.contains("## (e) Merge + unmerge") && md.contains("40.0 ± 0.4"), md);
    }

    private static String location(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
