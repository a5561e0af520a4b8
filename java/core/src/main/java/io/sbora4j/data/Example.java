package io.sbora4j.data;

import java.util.Objects;

/**
 * One instruction-tuning record in the Alpaca layout. {@code answer} is what evaluation compares against (for
 * LLM-Adapters' math and commonsense sets, a number or an option word); it defaults to {@code output}.
 */
public record Example(String instruction, String input, String output, String answer) {

    public Example {
        Objects.requireNonNull(instruction, "instruction");
        input = input == null ? "" : input;
        output = output == null ? "" : output;
        answer = answer == null || answer.isEmpty() ? output : answer;
    }

    public static Example of(String instruction, String output) {
        return new Example(instruction, "", output, output);
    }
}
