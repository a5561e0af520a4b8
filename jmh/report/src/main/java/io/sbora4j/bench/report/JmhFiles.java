package io.sbora4j.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Several JMH result files read as one: the results of each, in order, and the notes on those that could not be
 * read (missing, empty, not JMH's JSON), so that a run of several JMH commands, some of which failed, still gives
 * one report and one combined result file.
 */
public final class JmhFiles {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JmhFiles() {}

    /**
     * What was read.
     *
     * @param results every result of the files read, in file order
     * @param json    the same results as one JMH JSON array (each entry as JMH wrote it)
     * @param read    the files that were read
     * @param notes   one line per file that was not
     */
    public record Combined(List<BenchResult> results, ArrayNode json, List<Path> read, List<String> notes) {}

    /** Reads {@code files}, skipping (with a note) each that is missing or not a JMH result file. */
    public static Combined read(List<Path> files) {
        List<BenchResult> results = new ArrayList<>();
        ArrayNode all = JSON.createArrayNode();
        List<Path> read = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                notes.add("JMH results " + f + ": not found (its run failed or did not run).");
                continue;
            }
            try {
                if (Files.size(f) == 0) {
                    notes.add("JMH results " + f + ": empty (its run wrote nothing).");
                    continue;
                }
                JsonNode root = JSON.readTree(f.toFile());
                List<BenchResult> rs = JmhResults.parse(root, f.toString());
                results.addAll(rs);
                root.forEach(all::add);
                read.add(f);
            } catch (IOException | IllegalArgumentException e) {
                notes.add("JMH results " + f + ": unreadable (" + e.getMessage() + ").");
            }
        }
        return new Combined(results, all, read, notes);
    }

    /** Writes {@code json} (a JMH result array) to {@code file}, as JMH would, atomically. */
    public static void write(ArrayNode json, Path file) throws IOException {
        AtomicWrite.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n");
    }
}
