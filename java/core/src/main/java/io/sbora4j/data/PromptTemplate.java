package io.sbora4j.data;

import java.util.Locale;

/** How an example becomes the text the model reads. */
public enum PromptTemplate {

    /**
     * The Alpaca prompt of the LLM-Adapters code the SBoRA paper trained with ({@code generate_prompt} in
     * Commonsense_reasoning/finetune.py), reproduced character for character, including the indentation its
     * triple-quoted strings carry and the trailing spaces after the first sentence: token-level parity with that
     * code depends on them.
     */
    ALPACA {
        @Override
        public String prompt(Example e) {
            if (!e.input().isEmpty()) {
                return "Below is an instruction that describes a task, paired with an input that provides further"
                        + " context. Write a response that appropriately completes the request. \n\n"
                        + INDENT + "### Instruction:\n" + INDENT + e.instruction() + "\n" + INDENT + "\n"
                        + INDENT + "### Input:\n" + INDENT + e.input() + "\n" + INDENT + "\n"
                        + INDENT + "### Response:\n" + INDENT;
            }
            return "Below is an instruction that describes a task. Write a response that appropriately completes the"
                    + " request.  \n\n"
                    + INDENT + "### Instruction:\n" + INDENT + e.instruction() + "\n" + INDENT + "\n"
                    + INDENT + "### Response:\n" + INDENT;
        }
    },

    /** A compact {@code Q: ...\nA: } prompt, for tiny byte-level models where every prompt token costs. */
    PLAIN {
        @Override
        public String prompt(Example e) {
            return "Q: " + e.instruction() + (e.input().isEmpty() ? "" : " " + e.input()) + "\nA: ";
        }
    };

    private static final String INDENT = " ".repeat(16);

    /** What the model is given: everything before the response. */
    public abstract String prompt(Example e);

    /** The full training text: the prompt followed by the response. */
    public String full(Example e) {
        return prompt(e) + e.output();
    }

    public static PromptTemplate parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown prompt template '" + s + "' (expected alpaca or plain)");
        }
    }
}
