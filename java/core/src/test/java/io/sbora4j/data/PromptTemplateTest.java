package io.sbora4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PromptTemplateTest {

    /** The indentation LLM-Adapters' triple-quoted prompt strings carry on every line after the first. */
    private static final String I16 = "                ";

    @Test
    void alpacaWithInputIsLlmAdaptersGeneratePromptCharacterForCharacter() {
        Example e = new Example("Add the numbers.", "2 and 3", "5", null);
        String expected = "Below is an instruction that describes a task, paired with an input that provides further "
                + "context. Write a response that appropriately completes the request. \n"
                + "\n"
                + "                ### Instruction:\n"
                + "                Add the numbers.\n"
                + "                \n"
                + "                ### Input:\n"
                + "                2 and 3\n"
                + "                \n"
                + "                ### Response:\n"
                + "                ";
        assertEquals(expected, PromptTemplate.ALPACA.prompt(e));
        assertEquals(expected + "5", PromptTemplate.ALPACA.full(e));
    }

    @Test
    void alpacaWithoutInputHasTwoSpacesAfterTheFirstSentence() {
        Example e = Example.of("What is 2 + 3?", "5");
        String expected = "Below is an instruction that describes a task. Write a response that appropriately "
                + "completes the request.  \n"
                + "\n"
                + "                ### Instruction:\n"
                + "                What is 2 + 3?\n"
                + "                \n"
                + "                ### Response:\n"
                + "                ";
        assertEquals(expected, PromptTemplate.ALPACA.prompt(e));
        assertEquals(expected + "5", PromptTemplate.ALPACA.full(e));
    }

    @Test
    void alpacaLinesAfterTheFirstAreAllIndentedBySixteenSpaces() {
        for (Example e : new Example[] {Example.of("x", "y"), new Example("x", "in", "y", null)}) {
            String[] lines = PromptTemplate.ALPACA.prompt(e).split("\n", -1);
            assertTrue(lines[0].endsWith("request. ") || lines[0].endsWith("request.  "), lines[0]);
            assertEquals("", lines[1]);
            for (int i = 2; i < lines.length; i++) {
                assertTrue(lines[i].startsWith(I16), "line " + i + ": '" + lines[i] + "'");
                assertTrue(lines[i].length() == 16 || lines[i].charAt(16) != ' ', "exactly 16: '" + lines[i] + "'");
            }
            assertEquals(I16, lines[lines.length - 1], "ends with \"### Response:\\n\" + 16 spaces");
            assertEquals(I16 + "### Response:", lines[lines.length - 2]);
        }
    }

    @Test
    void alpacaTreatsAnEmptyInputAsNoInput() {
        assertEquals(
                PromptTemplate.ALPACA.prompt(new Example("q", null, "a", null)),
                PromptTemplate.ALPACA.prompt(new Example("q", "", "a", null)));
        assertTrue(
                !PromptTemplate.ALPACA.prompt(new Example("q", "", "a", null)).contains("### Input:"));
    }

    @Test
    void plainIsQuestionThenAnswerPrefix() {
        assertEquals("Q: What is 2 + 3?\nA: ", PromptTemplate.PLAIN.prompt(Example.of("What is 2 + 3?", "5")));
        assertEquals("Q: Add 2 3\nA: ", PromptTemplate.PLAIN.prompt(new Example("Add", "2 3", "5", null)));
        assertEquals("Q: What is 2 + 3?\nA: 5", PromptTemplate.PLAIN.full(Example.of("What is 2 + 3?", "5")));
    }

    @Test
    void parseIsCaseInsensitiveAndRejectsUnknownNames() {
        assertEquals(PromptTemplate.ALPACA, PromptTemplate.parse(" Alpaca "));
        assertEquals(PromptTemplate.PLAIN, PromptTemplate.parse("PLAIN"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptTemplate.parse("chat"));
        assertTrue(e.getMessage().contains("'chat'"), e.getMessage());
    }
}
