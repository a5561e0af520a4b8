package io.sbora4j.data;

import io.sbora4j.nn.LlamaModel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Exact-match accuracy of greedy answers over a list of examples. */
public final class Evaluation {

    private Evaluation() {}

    /** One scored answer. */
    public record Answer(Example example, String generated, boolean correct) {}

    /** The result over a set. */
    public record Result(List<Answer> answers) {
        public int correct() {
            return (int) answers.stream().filter(Answer::correct).count();
        }

        public double accuracy() {
            return answers.isEmpty() ? 0 : (double) correct() / answers.size();
        }

        @Override
        public String toString() {
            return ExactMatch.describe(correct(), answers.size());
        }
    }

    /** Generates up to {@code maxNewTokens} for each example's prompt and scores it against its answer. */
    public static Result run(
            LlamaModel model,
            Tokenizer tok,
            PromptTemplate template,
            List<Example> examples,
            int maxNewTokens,
            Consumer<String> progress) {
        List<Answer> answers = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            Example e = examples.get(i);
            int[] prompt = tok.withBos(tok.encode(template.prompt(e))); // as in training
            String out = tok.decode(Generation.greedy(model, prompt, maxNewTokens, tok.eosId()));
            answers.add(new Answer(e, out, ExactMatch.correct(out, e.answer())));
            if (progress != null && (i + 1) % 10 == 0) {
                progress.accept("evaluated " + (i + 1) + "/" + examples.size());
            }
        }
        return new Result(answers);
    }
}
