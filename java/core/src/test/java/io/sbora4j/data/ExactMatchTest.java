package io.sbora4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ExactMatchTest {

    @Test
    void aNumericAnswerIsJudgedByTheLastNumber() {
        assertTrue(ExactMatch.correct("The answer is 12, not 13", "13"));
        assertFalse(ExactMatch.correct("The answer is 12, not 13", "12"));
        assertTrue(ExactMatch.correct("5", "5"));
        assertTrue(ExactMatch.correct("2 + 3 = 5.", "5"));
        assertFalse(ExactMatch.correct("no number here", "5"));
        assertFalse(ExactMatch.correct("", "5"));
    }

    @Test
    void thousandsSeparatorsAreIgnoredOnBothSides() {
        assertTrue(ExactMatch.correct("It costs 1,234 dollars", "1234"));
        assertTrue(ExactMatch.correct("It costs 1234 dollars", "1,234"));
        assertTrue(ExactMatch.correct("1,234", " 1,234 "));
        assertEquals("1234", ExactMatch.lastNumber("a 1,234 b"));
    }

    @Test
    void negativeAndDecimalNumbers() {
        assertTrue(ExactMatch.correct("the result is -7", "-7"));
        assertFalse(ExactMatch.correct("the result is 7", "-7"));
        assertTrue(ExactMatch.correct("x = 2.50", "2.5"));
        assertTrue(ExactMatch.correct("x = 2.5", "2.5004"), "within 1e-3");
        assertFalse(ExactMatch.correct("x = 2.5", "2.502"));
        assertTrue(ExactMatch.correct("about 3.0", "3"));
        assertEquals("-0.25", ExactMatch.lastNumber("from 1 to -0.25"));
        assertNull(ExactMatch.lastNumber("none"));
    }

    @Test
    void anOptionAnswerIsJudgedByTheFirstOptionWord() {
        assertTrue(ExactMatch.correct("the correct answer is answer2", "answer2"));
        assertFalse(ExactMatch.correct("the correct answer is answer1, or answer2", "answer2"));
        assertTrue(ExactMatch.correct("option1", "option1"));
        assertFalse(ExactMatch.correct("option2", "option1"));
        assertTrue(ExactMatch.correct("solution2 is right", "solution2"));
        assertTrue(ExactMatch.correct("ending3", "ending3"));
        assertTrue(ExactMatch.correct("the statement is true", "true"));
        assertFalse(ExactMatch.correct("the statement is false, not true", "true"));
        assertTrue(ExactMatch.correct("The answer is C.", "C"));
        assertFalse(ExactMatch.correct("The answer is D.", "C"));
        assertFalse(ExactMatch.correct("answer2", "answer22"), "not an option word: compared as text");
    }

    @Test
    void anOptionWordMustStandAlone() {
        assertFalse(ExactMatch.correct("answer23", "answer2"));
        assertFalse(ExactMatch.correct("Clearly", "C"), "the C of a word is not the letter C");
        assertFalse(ExactMatch.correct("untrue", "true"));
    }

    @Test
    void onlyOptionWordsOfTheAnswersKindCount() {
        // LLM-Adapters searches one kind per data set (true|false for BoolQ, answer1..5 for SIQA/ARC/OBQA, letters
        // for AQuA): an English "A" or another kind's word before the answer is not the model's choice
        assertTrue(ExactMatch.correct("A person would pick answer2", "answer2"));
        assertTrue(ExactMatch.correct("A: true", "true"));
        assertTrue(ExactMatch.correct("it is true that the answer is B", "B"));
        assertTrue(ExactMatch.correct("option1 sounds true but solution1 is it", "solution1"));
    }

    @Test
    void otherAnswersMustEqualTheTrimmedTextIgnoringCase() {
        assertTrue(ExactMatch.correct("  Paris \n", "paris"));
        assertFalse(ExactMatch.correct("Paris, France", "Paris"));
        assertTrue(ExactMatch.correct("True", "True"), "capitalised: plain text, not an option word");
    }

    @Test
    void describeFormatsAccuracy() {
        assertEquals("12/50 = 24.0%", ExactMatch.describe(12, 50));
        assertEquals("0/0 = 0.0%", ExactMatch.describe(0, 0));
    }
}
