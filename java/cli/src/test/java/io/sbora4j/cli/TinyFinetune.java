package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Device;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** A tiny random base model, a dozen sums to learn, and the finetune command line over them. */
final class TinyFinetune {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);

    final Path base, data;

    /** Writes the model and the data into {@code dir}. */
    TinyFinetune(Path dir) throws IOException {
        base = dir.resolve("base");
        try (Arena arena = Arena.ofConfined()) {
            ModelFiles.save(LlamaModel.random(CFG, 1, Device.CPU, arena), base);
        }
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            jsonl.append("{\"instruction\": \"What is ")
                    .append(i % 4)
                    .append(" + ")
                    .append(i / 4)
                    .append("?\", \"output\": \"")
                    .append(i % 4 + i / 4)
                    .append("\"}\n");
        }
        data = Files.writeString(dir.resolve("sums.jsonl"), jsonl);
    }

    /**
     * {@code finetune} into {@code out} for 4 steps on one thread, a checkpoint after each, with the options in
     * {@code extra} replacing those given here or added.
     */
    String[] args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of(
                "finetune",
                "--model",
                base.toString(),
                "--data",
                data.toString(),
                "--method",
                "sbora-fa",
                "--r",
                "2",
                "--alpha",
                "4",
                "--steps",
                "4",
                "--batch",
                "2",
                "--seq-len",
                "64",
                "--template",
                "plain",
                "--lr",
                "1e-2",
                "--tokenizer",
                "byte",
                "--threads",
                "1",
                "--checkpoint-every",
                "1",
                "--out",
                out.toString()));
        for (int i = 0; i < extra.length; i++) {
            int at = a.indexOf(extra[i]);
            if (at >= 0 && i + 1 < extra.length) {
                a.set(at + 1, extra[++i]); // another value for an option given above
            } else {
                a.add(extra[i]);
            }
        }
        return a.toArray(String[]::new);
    }

    /** The adapter in {@code out} is the one in {@code expected}, byte for byte (weights, config and run record). */
    static void assertSameAdapter(Path expected, Path out) throws IOException {
        for (String f : List.of(AdapterFiles.WEIGHTS, AdapterFiles.CONFIG, AdapterFiles.RUN)) {
            assertArrayEquals(
                    Files.readAllBytes(expected.resolve(f)), Files.readAllBytes(out.resolve(f)), f + " in " + out);
        }
    }

    /** Copies the tree {@code from} to {@code to}. */
    static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q);
                }
            }
        }
        return to;
    }

    /** The names in {@code dir}, sorted. */
    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
