package io.sbora4j.cli;

import io.sbora4j.data.ByteTokenizer;
import io.sbora4j.data.Tokenizer;
import io.sbora4j.hf.HfTokenizer;
import io.sbora4j.io.Fingerprints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --tokenizer}: byte, a tokenizer.json path, or auto (the model's tokenizer.json if it has one). */
final class TokenizerOptions {

    @Option(
            names = "--tokenizer",
            defaultValue = "auto",
            description =
                    "auto (the model's tokenizer.json, else byte), byte, or a tokenizer.json path (${DEFAULT-VALUE})")
    String tokenizer;

    /** What {@link #resolve} reads, for a run's identity: {@code byte}, or a tokenizer file's fingerprint. */
    String describe(Path modelDir) throws IOException {
        if (tokenizer.equals("byte")) {
            return "byte";
        }
        Path f = tokenizer.equals("auto") ? modelDir.resolve("tokenizer.json") : Path.of(tokenizer);
        return Files.isRegularFile(f) ? "tokenizer.json, " + Fingerprints.file(f) : "byte";
    }

    Tokenizer resolve(Path modelDir, int modelVocab) throws IOException {
        Tokenizer t;
        if (tokenizer.equals("byte")) {
            t = new ByteTokenizer();
        } else if (tokenizer.equals("auto")) {
            Path f = modelDir.resolve("tokenizer.json");
            t = Files.isRegularFile(f) ? HfTokenizer.load(f) : new ByteTokenizer();
        } else {
            t = HfTokenizer.load(Path.of(tokenizer));
        }
        if (t.vocabSize() > modelVocab) {
            throw new IllegalArgumentException("the tokenizer's vocabulary (" + t.vocabSize()
                    + ") is larger than the model's (" + modelVocab + ")");
        }
        return t;
    }
}
