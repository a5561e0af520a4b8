package io.sbora4j.bench.report;

import io.sbora4j.bench.report.PeerResults.PeerRun;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The GPU report ({@code bench-report gpu}): a GPU session's JMH results (AdapterLayerBench, GatherScatterBench,
 * MergeBench on cuda) and the PyTorch + PEFT peer's results in one Markdown report, the targets met or missed first,
 * then the tables (see {@link GpuMarkdown}). Inputs that are missing or unreadable are named in the report's notes,
 * never fatal, so a session in which some steps failed still gets a report of the rest. Draws no chart, and loads
 * no class of JFreeChart or {@code java.desktop}: it runs on the GPU machine's small runtime, which has neither.
 *
 * <pre>
 * java -jar jmh/report/target/bench-report.jar gpu jmh-gpu.json --peers peers-bf16.json,peers-f32.json \
 *      --machine "NVIDIA H200, 16 cores" --date 2026-12-01 --out gpu-report.md
 * </pre>
 *
 * The first argument may list several JMH result files, comma-separated; {@code --merged-jmh FILE} then also
 * writes their results as one JMH result file, from which the same report can be made again.
 */
public final class GpuReport {

    private GpuReport() {}

    /**
     * The command line.
     *
     * @param jmh       JMH result files
     * @param peers     peer result files ({@code bench/peers/peft_lora.py})
     * @param machine   the machine as the report names it; null: the peers' device, else "not given"
     * @param date      the run's date; null: today (UTC)
     * @param mergedJmh where to write every JMH result as one file, or null
     * @param out       the report
     * @param data      the folder of targets.json and machines.json
     * @param gpu       the entry of machines.json the bandwidths are read against
     */
    public record Options(
            List<Path> jmh,
            List<Path> peers,
            String machine,
            String date,
            Path mergedJmh,
            Path out,
            Path data,
            String gpu) {

        public Options {
            jmh = List.copyOf(jmh);
            peers = List.copyOf(peers);
        }

        /** {@code <jmh.json>[,...] [--peers ...] [--machine] [--date] [--merged-jmh] [--out] [--data] [--gpu]}. */
        public static Options parse(String[] args) {
            Args a = Args.parse(
                    args, Set.of("--peers", "--machine", "--date", "--merged-jmh", "--out", "--data", "--gpu"));
            return new Options(
                    Args.paths(a.single("the JMH result file(s), comma-separated")),
                    Args.paths(a.get("--peers", "")),
                    a.get("--machine", null),
                    a.get("--date", null),
                    a.path("--merged-jmh", null),
                    a.path("--out", Path.of("gpu-report.md")),
                    a.path("--data", DataFile.DEFAULT_DIR),
                    a.get("--gpu", GpuConstants.DEFAULT));
        }
    }

    /** Parses {@code args}, writes the report and prints its Markdown. */
    static void run(String[] args, PrintStream out) throws IOException {
        Options o = Options.parse(args);
        out.print(write(o));
        out.println("written: " + o.out() + (o.mergedJmh() != null ? ", " + o.mergedJmh() : ""));
    }

    /**
     * Reads the inputs and writes the report (and the merged JMH file, when asked and any JMH file was read), each
     * atomically; returns the report's text. Fails only when the targets or the GPU's constants cannot be read.
     */
    public static String write(Options o) throws IOException {
        Targets targets = Targets.read(o.data());
        GpuConstants gpu = GpuConstants.read(o.data(), o.gpu());
        JmhFiles.Combined jmh = JmhFiles.read(o.jmh());
        List<String> notes = new ArrayList<>(jmh.notes());
        List<String> inputs = new ArrayList<>();
        if (!jmh.read().isEmpty()) {
            List<String> names =
                    jmh.read().stream().map(p -> p.getFileName().toString()).toList();
            inputs.add("JMH: " + String.join(", ", names) + " (" + jmh.results().size() + " results)");
        }
        List<PeerRun> peers = new ArrayList<>();
        for (Path p : o.peers()) {
            if (!Files.isRegularFile(p)) {
                notes.add("Peer results " + p + ": not found (its run failed or did not run).");
                continue;
            }
            try {
                PeerRun run = PeerResults.read(p);
                peers.add(run);
                inputs.add("PyTorch + PEFT peer: " + run.source() + " ("
                        + run.results().size() + " results)");
            } catch (IOException | IllegalArgumentException e) {
                notes.add("Peer results " + p + ": unreadable (" + e.getMessage() + ").");
            }
        }
        String machine = o.machine() != null
                ? o.machine()
                : peers.stream()
                        .map(PeerRun::device)
                        .filter(d -> !d.equals("?"))
                        .findFirst()
                        .orElse("not given");
        String date =
                o.date() != null ? o.date() : LocalDate.now(ZoneOffset.UTC).toString();
        String text = GpuMarkdown.render(
                GpuFigures.from(jmh.results()),
                peers,
                new GpuMarkdown.Context(machine, date, inputs, notes, targets, gpu));
        AtomicWrite.writeString(o.out(), text);
        if (o.mergedJmh() != null && !jmh.read().isEmpty()) {
            JmhFiles.write(jmh.json(), o.mergedJmh());
        }
        return text;
    }
}
