package io.sbora4j.cli;

import io.sbora4j.data.Generator;
import io.sbora4j.data.Sampler;
import io.sbora4j.data.Tokenizer;
import io.sbora4j.hf.ChatTemplate;
import io.sbora4j.nn.LlamaModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sbora generate}: text after a prompt, or after each line of a file (one batch), streamed to stdout as it
 * comes. The prompts of a file are printed in their order, each followed by a newline: the first as it is generated,
 * each later one as soon as those before it are done.
 */
@Command(
        name = "generate",
        description = "Generate text after a prompt (or each line of a file, as one batch) with a key/value cache,"
                + " greedy or sampled, streamed to stdout.")
final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOptions deviceOptions;

    @Mixin
    InferenceModelOptions modelOptions;

    @Mixin
    TokenizerOptions tokenizerOptions;

    static final class Input {
        @Option(names = "--prompt", required = true, description = "the prompt")
        String prompt;

        @Option(names = "--file", required = true, description = "a UTF-8 file of prompts, one a line (a batch)")
        Path file;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(
            names = "--chat",
            description = "render each prompt as a user message with the model's chat template (tokenizer_config.json)")
    boolean chat;

    @Option(names = "--max-new-tokens", defaultValue = "128", description = "tokens per prompt (${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0: greedy; else sample (${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "sample among the K most likely tokens (0: all)")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "nucleus sampling: the most likely tokens up to P")
    float topP;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the sampling (${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--stop", description = "a string that ends the text (not printed); repeatable")
    List<String> stops = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("--max-new-tokens must be >= 0, got " + maxNewTokens);
        }
        Sampler.Options sampling;
        try {
            sampling = new Sampler.Options(temperature, topK, topP, seed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage()); // the messages start with the option's name
        }
        if (temperature == 0 && (topK > 1 || topP < 1)) {
            throw new IllegalArgumentException(
                    "--top-k and --top-p sample: they need --temperature above 0 (0 is" + " greedy)");
        }
        List<String> texts = prompts();
        ChatTemplate template = chat ? chatTemplate() : null;
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = modelOptions.load(deviceOptions.resolve(), arena, err);
            Tokenizer tok =
                    tokenizerOptions.resolve(modelOptions.model, m.config().vocabSize());
            List<int[]> prompts = new ArrayList<>();
            for (String text : texts) {
                prompts.add(template == null ? tok.withBos(tok.encode(text)) : chatPrompt(tok, template, text));
            }
            int[] stopIds = tok.eosId() >= 0 ? new int[] {tok.eosId()} : new int[0];
            Generator.Options options = new Generator.Options(maxNewTokens, sampling, stopIds, stops);
            new Generator(m, tok).generate(prompts, options, new InOrder(out, prompts.size()));
        }
        out.flush();
        return 0;
    }

    private List<String> prompts() throws IOException {
        if (input.file == null) {
            if (input.prompt.isEmpty()) {
                throw new IllegalArgumentException("--prompt is empty");
            }
            return List.of(input.prompt);
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(input.file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--file " + input.file + " does not exist");
        } catch (MalformedInputException e) {
            throw new IllegalArgumentException("--file " + input.file + " is not UTF-8 text");
        }
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            if (!line.isBlank()) {
                out.add(line);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--file " + input.file + " holds no prompt (one a line)");
        }
        return out;
    }

    private ChatTemplate chatTemplate() throws IOException {
        try {
            return ChatTemplate.load(modelOptions.model);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--chat: the model has no chat template (" + e.getMessage().replace('\n', ' ') + ")", e);
        }
    }

    /**
     * The rendered conversation, encoded as it is: a chat template writes the BOS token itself where the model
     * wants one, as transformers' apply_chat_template leaves it.
     */
    private static int[] chatPrompt(Tokenizer tok, ChatTemplate template, String text) {
        String rendered = template.renderMessages(List.of(new ChatTemplate.Message("user", text)), true);
        int[] ids = tok.encode(rendered);
        return ids.length == 0 ? tok.withBos(ids) : ids;
    }

    /**
     * Prints each sequence's text in the order of the prompts: the current one as it comes, the later ones kept
     * until those before them have ended.
     */
    private static final class InOrder implements Generator.Listener {
        private final PrintWriter out;
        private final StringBuilder[] held;
        private final boolean[] ended;
        private int current;

        InOrder(PrintWriter out, int n) {
            this.out = out;
            this.held = new StringBuilder[n];
            this.ended = new boolean[n];
            for (int i = 0; i < n; i++) {
                held[i] = new StringBuilder();
            }
        }

        @Override
        public void onToken(int sequence, int token, String text) {
            if (sequence == current) {
                out.print(text);
                out.flush();
            } else {
                held[sequence].append(text);
            }
        }

        @Override
        public void onEnd(int sequence, Generator.StopReason reason) {
            ended[sequence] = true;
            while (current < held.length && ended[current]) {
                out.println();
                current++;
                if (current < held.length) {
                    out.print(held[current]);
                    held[current].setLength(0);
                }
            }
            out.flush();
        }
    }
}
