package io.sbora4j.cli;

import io.sbora4j.data.AlpacaDataset;
import io.sbora4j.data.Evaluation;
import io.sbora4j.data.Example;
import io.sbora4j.data.PromptTemplate;
import io.sbora4j.nn.LlamaModel;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sbora eval}: exact-match accuracy of greedy answers. */
@Command(
        name = "eval",
        description = "Exact-match accuracy of a model (with an adapter) on Alpaca-style data:"
                + " the last number for numeric answers, the option word for multiple choice.")
final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOptions deviceOptions;

    @Mixin
    InferenceModelOptions modelOptions;

    @Option(names = "--data", required = true, description = "Alpaca-style .json or .jsonl with answers")
    Path data;

    @Option(names = "--template", defaultValue = "alpaca", description = "alpaca or plain (${DEFAULT-VALUE})")
    String template;

    @Option(names = "--max-new-tokens", defaultValue = "32", description = "answer budget (${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--limit", defaultValue = "0", description = "evaluate only the first N examples (0: all)")
    int limit;

    @Mixin
    TokenizerOptions tokenizerOptions;

    @Override
    public Integer call() throws Exception {
        PrintWriter pw = spec.commandLine().getOut();
        var device = deviceOptions.resolve();
        List<Example> examples = AlpacaDataset.read(data);
        if (limit > 0 && limit < examples.size()) {
            examples = examples.subList(0, limit);
        }
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = modelOptions.load(device, arena, pw);
            Evaluation.Result res = Evaluation.run(
                    m,
                    tokenizerOptions.resolve(modelOptions.model, m.config().vocabSize()),
                    PromptTemplate.parse(template),
                    examples,
                    maxNewTokens,
                    line -> {
                        pw.println(line);
                        pw.flush();
                    });
            pw.println("accuracy " + res);
        }
        return 0;
    }
}
