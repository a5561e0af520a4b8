package io.sbora4j.bench;

import io.sbora4j.bench.report.GpuFigures;
import io.sbora4j.bench.report.GpuMarkdown;
import io.sbora4j.bench.report.JmhFiles;
import io.sbora4j.bench.report.PeerResults;
import io.sbora4j.bench.report.PeerResults.PeerRun;
import io.sbora4j.io.AtomicFiles;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns a GPU session's JMH results (AdapterLayerBench, GatherScatterBench, MergeBench on cuda) and the PyTorch +
 * PEFT peer's results into one Markdown report: the targets met or missed, then the tables (see
 * {@link GpuMarkdown}). Inputs that are missing or unreadable are named in the report's notes, never fatal, so a
 * session in which some steps failed still gets a report of the rest. Draws no chart: it runs on the GPU machine's
 * runtime, which has no AWT.
 *
 * <pre>
 * java -cp ... io.sbora4j.bench.GpuReport jmh-gpu.json --peers peers-bf16.json,peers-f32.json \
 *      --machine "NVIDIA H200, 16 cores" --date 2026-12-01 gpu-report.md
 * </pre>
 *
 * The first argument may list several JMH result files, comma-separated; {@code --merged-jmh FILE} then also
 * writes their results as one JMH result file, from which the same report can be made again.
 */
public final class GpuReport {

    static final String USAGE = "usage: GpuReport <jmh.json>[,<more.json>...] [--peers <peers.json>[,...]] "
            + "[--machine TEXT] [--date TEXT] [--merged-jmh <all.json>] <out.md>";

    private GpuReport() {}

    /** The command line. */
    record Options(List<Path> jmh, List<Path> peers, String machine, String date, Path mergedJmh, Path out) {}

    public static void main(String[] args) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("GpuReport: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        try {
            String text = write(o);
            // UTF-8 whatever the locale: the tables use ± and µ.
            PrintStream stdout =
                    new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
            stdout.print(text);
            stdout.println("written: " + o.out() + (o.mergedJmh() != null ? ", " + o.mergedJmh() : ""));
            stdout.flush();
        } catch (IOException | UncheckedIOException e) {
            System.err.println("GpuReport: " + e.getMessage());
            System.exit(1);
        }
    }

    static Options parse(String[] args) {
        List<String> positional = new ArrayList<>();
        List<Path> peers = new ArrayList<>();
        String machine = null, date = null;
        Path merged = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--peers" -> peers.addAll(paths(value(args, ++i, a)));
                case "--machine" -> machine = value(args, ++i, a);
                case "--date" -> date = value(args, ++i, a);
                case "--merged-jmh" -> merged = Path.of(value(args, ++i, a));
                default -> {
                    if (a.startsWith("--")) {
                        throw new IllegalArgumentException("unknown option " + a);
                    }
                    positional.add(a);
                }
            }
        }
        if (positional.size() != 2) {
            throw new IllegalArgumentException(
                    "expected the JMH result file(s) and the output file, got " + positional);
        }
        return new Options(paths(positional.get(0)), peers, machine, date, merged, Path.of(positional.get(1)));
    }

    /**
     * Reads the inputs and writes the report (and the merged JMH file, when asked and any JMH file was read), each
     * atomically; returns the report's text.
     */
    static String write(Options o) throws IOException {
        JmhFiles.Combined jmh = JmhFiles.read(o.jmh());
        List<String> notes = new ArrayList<>(jmh.notes());
        List<String> inputs = new ArrayList<>();
        if (!jmh.read().isEmpty()) {
            inputs.add("JMH: "
                    + String.join(
                            ", ",
                            jmh.read().stream()
                                    .map(p -> p.getFileName().toString())
                                    .toList()) + " (" + jmh.results().size() + " results)");
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
                GpuFigures.from(jmh.results()), peers, new GpuMarkdown.Context(machine, date, inputs, notes));
        AtomicFiles.writeString(o.out(), text);
        if (o.mergedJmh() != null && !jmh.read().isEmpty()) {
            JmhFiles.write(jmh.json(), o.mergedJmh());
        }
        return text;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static List<Path> paths(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .map(Path::of)
                .toList();
    }
}
