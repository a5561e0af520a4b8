package io.sbora4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlpacaDatasetTest {

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    /** Reading {@code text} fails with a message that names the file and contains every one of {@code parts}. */
    private void assertRejected(String text, String... parts) throws IOException {
        Path p = write("bad.json", text);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AlpacaDataset.read(p));
        assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
        }
    }

    @Test
    void readsAJsonArray() throws IOException {
        List<Example> ex = AlpacaDataset.read(write("d.json", """
                [
                  {"instruction": "Add", "input": "2 3", "output": "The sum is 5", "answer": "5"},
                  {"instruction": "Say hi", "output": "hi"}
                ]
                """));
        assertEquals(
                List.of(new Example("Add", "2 3", "The sum is 5", "5"), new Example("Say hi", "", "hi", "hi")), ex);
    }

    @Test
    void readsJsonLinesSkippingBlankLines() throws IOException {
        List<Example> ex = AlpacaDataset.read(write("d.jsonl", """
                {"instruction": "What is 1 + 1?", "output": "2"}

                {"instruction": "What is 2 + 2?", "input": "", "output": 4, "answer": null}
                """));
        assertEquals(2, ex.size());
        assertEquals(Example.of("What is 1 + 1?", "2"), ex.get(0));
        assertEquals("4", ex.get(1).output(), "a number is taken as its text");
        assertEquals("4", ex.get(1).answer(), "the answer defaults to the output");
    }

    @Test
    void readsUtf8() throws IOException {
        List<Example> ex =
                AlpacaDataset.read(write("d.jsonl", "{\"instruction\": \"Übersetze\", \"output\": \"日本\"}\n"));
        assertEquals("Übersetze", ex.get(0).instruction());
        assertEquals("日本", ex.get(0).output());
    }

    @Test
    void missingInstructionNamesTheRecord() throws IOException {
        assertRejected(
                "[{\"instruction\": \"a\", \"output\": \"b\"}, {\"output\": \"b\"}]", "record 2", "\"instruction\"");
    }

    @Test
    void missingOutputNamesTheLine() throws IOException {
        assertRejected(
                "{\"instruction\": \"a\", \"output\": \"b\"}\n\n{\"instruction\": \"a\"}\n", "line 3", "\"output\"");
    }

    @Test
    void nullOutputCountsAsMissing() throws IOException {
        assertRejected("[{\"instruction\": \"a\", \"output\": null}]", "record 1", "\"output\"");
    }

    @Test
    void aNonObjectRecordNamesTheRecordOrLine() throws IOException {
        assertRejected("[{\"instruction\": \"a\", \"output\": \"b\"}, \"just text\"]", "record 2", "not a JSON object");
        assertRejected("{\"instruction\": \"a\", \"output\": \"b\"}\n42\n", "line 2", "not a JSON object");
    }

    @Test
    void aNonTextFieldIsRejected() throws IOException {
        assertRejected("[{\"instruction\": [\"a\"], \"output\": \"b\"}]", "record 1", "\"instruction\"");
    }

    @Test
    void badJsonNamesTheLine() throws IOException {
        assertRejected(
                "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": \"a\", \n", "line 2", "not valid JSON");
    }

    @Test
    void aTruncatedArrayIsBadJson() throws IOException {
        assertRejected("[{\"instruction\": \"a\", \"output\": \"b\"}, {\"instr", "not valid JSON");
    }

    @Test
    void aDuplicateKeyIsBadJson() throws IOException {
        assertRejected("{\"instruction\": \"a\", \"output\": \"b\", \"output\": \"c\"}\n", "line 1", "not valid JSON");
    }

    @Test
    void trailingContentAfterAJsonArrayIsRejected() throws IOException {
        // two arrays appended into one file: reading only the first would silently lose data
        assertRejected(
                "[{\"instruction\": \"a\", \"output\": \"b\"}]\n[{\"instruction\": \"c\", \"output\": \"d\"}]\n",
                "not valid JSON");
    }

    @Test
    void twoObjectsOnOneJsonLinesLineAreRejected() throws IOException {
        assertRejected(
                "{\"instruction\": \"a\", \"output\": \"b\"} {\"instruction\": \"c\", \"output\": \"d\"}\n", "line 1");
    }

    @Test
    void aLineOrAStringPastTheLimitIsNamedNotReadWhole() throws IOException {
        String big = "a".repeat(AlpacaDataset.MAX_RECORD_CHARS + 1);
        assertRejected(
                "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": \"" + big + "\"}\n",
                "line 2",
                "longer than");
        assertRejected("[{\"instruction\": \"" + big + "\", \"output\": \"b\"}]", "record 1", "not valid JSON");
    }

    @Test
    void bytesThatAreNotUtf8AndDeepNestingAreNamed() throws IOException {
        Path p = dir.resolve("bad.jsonl");
        Files.write(p, new byte[] {'{', '"', 'a', '"', ':', (byte) 0xC0, (byte) 0x80, '}', '\n'});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AlpacaDataset.read(p));
        assertTrue(e.getMessage().contains("line 1 is not valid UTF-8"), e.getMessage());
        assertRejected("[" + "[".repeat(100) + "]".repeat(100) + "]", "record 1", "nesting");
    }

    @Test
    void anEmptyFileIsAnError() throws IOException {
        assertRejected("", "no examples");
        assertRejected("  \n\n", "no examples");
        assertRejected("[]", "no examples");
    }
}
