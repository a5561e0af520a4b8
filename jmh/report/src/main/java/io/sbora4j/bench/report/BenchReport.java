package io.sbora4j.bench.report;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The benchmark report tool: JMH's JSON results in; Markdown tables, checked against the targets of
 * {@code docs/bench/targets.json}, and (CPU) PNG charts out. Two subcommands:
 *
 * <pre>
 * java -jar jmh/report/target/bench-report.jar cpu results.json --out docs/bench
 * java -jar jmh/report/target/bench-report.jar gpu jmh-gpu.json --peers peers-bf16.json,peers-f32.json \
 *      --machine "NVIDIA H200, 16 CPU cores" --date 2026-12-01 --out gpu-report.md
 * </pre>
 *
 * {@code --data DIR} names the folder of {@code targets.json} and {@code machines.json} (default {@code docs/bench},
 * relative to the working directory). The {@code gpu} report draws no chart and needs neither JFreeChart nor
 * {@code java.desktop}: it runs on the GPU machine's small runtime, and charts are drawn back home.
 */
public final class BenchReport {

    static final String USAGE = """
            usage: bench-report cpu <jmh.json> [--out DIR (docs/bench)] [--data DIR (docs/bench)]
                   bench-report gpu <jmh.json>[,<more.json>...] [--peers <peers.json>[,...]] [--machine TEXT]
                                    [--date TEXT] [--gpu NAME (h200)] [--merged-jmh <all.json>]
                                    [--data DIR (docs/bench)] [--out <report.md> (gpu-report.md)]
              cpu: results.md, adapter-layer.png and merge.png in --out, from AdapterLayerBench, GemmBench,
                   MergeBench and QuantBench results
              gpu: one Markdown report of a GPU session (AdapterLayerBench, GatherScatterBench, MergeBench on cuda)
                   beside the PyTorch + PEFT peer; missing inputs become notes, never errors
              --data: the folder of targets.json and machines.json""";

    private BenchReport() {}

    public static void main(String[] args) {
        // UTF-8 whatever the locale: the tables use ± and µ.
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        int status = run(args, out, System.err);
        out.flush();
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Runs one subcommand; returns the exit status: 0 done, 1 failed, 2 a command line that does not parse. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            // Each report in its own class, so that the gpu one never loads the charts' classes.
            switch (args[0]) {
                case "cpu" -> CpuReport.run(rest, out);
                case "gpu" -> GpuReport.run(rest, out);
                default -> throw new Args.UsageError("unknown command '" + args[0] + "' (cpu or gpu)");
            }
            return 0;
        } catch (Args.UsageError e) {
            err.println("bench-report: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
            err.println("bench-report " + args[0] + ": " + e);
            return 1;
        }
    }
}
