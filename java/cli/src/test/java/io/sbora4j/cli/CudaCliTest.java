package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.cli.CliRun.Result;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.testing.CudaAvailability;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line on {@code --device cuda}: fine-tuning (f32, bf16 and NF4 bases), evaluation, forward and a merge,
 * as a user runs them. Skipped without a usable cuda backend (a GPU, or the emulated one of the tests), except in the
 * build's run on the emulated device ({@link CudaAvailability}).
 */
@Tag("cuda")
class CudaCliTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);

    @TempDir
    Path tmp;

    @BeforeEach
    void gpu() {
        CudaAvailability.assumeUsable();
    }

    private static Result run(String... args) {
        return CliRun.run(args);
    }

    @Test
    void finetuneEvalAndMergeOnCuda() throws IOException {
        Path base = tmp.resolve("base");
        try (Arena arena = Arena.ofConfined()) {
            ModelFiles.save(LlamaModel.random(CFG, 1, Device.CPU, arena), base);
        }
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            jsonl.append("{\"instruction\": \"What is ")
                    .append(i % 4)
                    .append(" + ")
                    .append(i / 4)
                    .append("?\", \"output\": \"")
                    .append(i % 4 + i / 4)
                    .append("\"}\n");
        }
        Path data = Files.writeString(tmp.resolve("sums.jsonl"), jsonl);
        String[] common = {
            "--model",
            base.toString(),
            "--data",
            data.toString(),
            "--r",
            "2",
            "--alpha",
            "4",
            "--steps",
            "2",
            "--batch",
            "2",
            "--seq-len",
            "48",
            "--template",
            "plain",
            "--tokenizer",
            "byte",
            "--device",
            "cuda"
        };
        for (String[] variant :
                new String[][] {{"sbora-fa"}, {"sbora-fb", "--bf16"}, {"sbora-fa", "--quantize", "nf4"}, {"lora"}}) {
            Path out = tmp.resolve(String.join("-", variant).replace("--", ""));
            String[] args = concat(
                    new String[] {"finetune", "--method", variant[0]},
                    common,
                    Arrays.copyOfRange(variant, 1, variant.length),
                    new String[] {"--out", out.toString()});
            Result r = run(args);
            assertEquals(0, r.code(), String.join(" ", variant) + ": " + r.err() + r.out());
            assertTrue(r.out().contains("final loss"), r.out());
            Result eval = run(concat(
                    new String[] {
                        "eval",
                        "--model",
                        base.toString(),
                        "--adapter",
                        out.toString(),
                        "--data",
                        data.toString(),
                        "--template",
                        "plain",
                        "--tokenizer",
                        "byte",
                        "--device",
                        "cuda",
                        "--max-new-tokens",
                        "2",
                        "--limit",
                        "2"
                    },
                    Arrays.copyOfRange(variant, 1, variant.length)));
            assertEquals(0, eval.code(), String.join(" ", variant) + " eval: " + eval.err());
        }
        Path logits = tmp.resolve("logits.safetensors");
        Result fwd = run(
                "forward",
                "--model",
                base.toString(),
                "--adapter",
                tmp.resolve("sbora-fa").toString(),
                "--tokens",
                "1 2 3",
                "--out",
                logits.toString(),
                "--device",
                "cuda");
        assertEquals(0, fwd.code(), fwd.err());
        assertTrue(Files.isRegularFile(logits));
        Path merged = tmp.resolve("merged");
        Result m = run(
                "merge",
                "--model",
                base.toString(),
                "--adapter",
                tmp.resolve("sbora-fa").toString(),
                "--out",
                merged.toString(),
                "--device",
                "cuda");
        assertEquals(0, m.code(), m.err());
        assertTrue(Files.isRegularFile(merged.resolve("model.safetensors")));
    }

    @Test
    void layerDemoOnCudaTrainsEveryMethod() {
        Result r = run("layer-demo", "--dim", "32", "--tokens", "16", "--steps", "8", "-r", "4", "--device", "cuda");
        assertEquals(0, r.code(), r.err());
        for (String row : new String[] {"lora r=4", "lora-fa r=4", "dora r=4", "sbora-fa r=4", "sbora-fb r=4"}) {
            assertTrue(r.out().contains(row), r.out());
        }
    }

    private static String[] concat(String[]... parts) {
        return Arrays.stream(parts).flatMap(Arrays::stream).toArray(String[]::new);
    }
}
