package io.sbora4j.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads Alpaca-style data: a JSON array of objects, or JSON Lines (one object per line), each with
 * {@code instruction} and {@code output} strings (a number is taken as its text), optionally {@code input} and
 * {@code answer}.
 *
 * <p>The file is read as a stream, a record at a time, so memory follows the records, never a size written in the
 * file; a line or a string longer than {@value #MAX_RECORD_CHARS} characters, nesting deeper than
 * {@value #MAX_DEPTH}, bytes that are not UTF-8, a duplicated key, trailing content or a value of the wrong type is
 * an {@link IllegalArgumentException} naming the file and the record (or line). {@link IOException} is for files
 * that cannot be read.
 */
public final class AlpacaDataset {

    /** The longest line of JSON Lines, and the longest string of a record, in characters. */
    public static final int MAX_RECORD_CHARS = 16 << 20;

    /** The deepest nesting of arrays and objects a file may hold (a record is an object of strings: depth 2). */
    public static final int MAX_DEPTH = 64;

    private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxStringLength(MAX_RECORD_CHARS)
                            .maxNestingDepth(MAX_DEPTH)
                            .build())
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS) // "{..} {..}" on one line: not one record
            .build();

    /** One element of an array, read from the array's parser (which goes on past it). */
    private static final ObjectReader ELEMENT = JSON.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final int UTF8_BOM = 0xFEFF;

    private AlpacaDataset() {}

    /**
     * The examples of {@code file}.
     *
     * @throws IllegalArgumentException naming the file and the record or line, if its content is malformed
     * @throws IOException              if it cannot be read
     */
    public static List<Example> read(Path file) throws IOException {
        List<Example> out = new ArrayList<>();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            if (firstSignificantByte(in) == '[') {
                readArray(file, in, out);
            } else {
                readLines(file, in, out);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": no examples");
        }
        return out;
    }

    /** The first byte that is not whitespace or a UTF-8 byte order mark, or -1; the stream is left before it. */
    private static int firstSignificantByte(InputStream in) throws IOException {
        while (true) {
            in.mark(4);
            int b = in.read();
            if (b == 0xEF) { // a UTF-8 byte order mark: EF BB BF
                if (in.read() == 0xBB && in.read() == 0xBF) {
                    continue;
                }
                in.reset();
                return b;
            }
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                in.reset();
                return b;
            }
        }
    }

    /** A JSON array, element after element. */
    private static void readArray(Path file, InputStream in, List<Example> out) throws IOException {
        int record = 0;
        try (JsonParser p = JSON.createParser(in)) {
            p.nextToken(); // '['
            while (true) {
                record++;
                JsonToken t = p.nextToken();
                if (t == JsonToken.END_ARRAY) {
                    break;
                }
                if (t == null) {
                    throw new IllegalArgumentException(
                            file + ": record " + record + " is not valid JSON: the file ends inside the array");
                }
                out.add(example(file, ELEMENT.readTree(p), "record " + record));
            }
            if (p.nextToken() != null) {
                throw new IllegalArgumentException(file + ": the file is not valid JSON: content after the array"
                        + " (line " + p.currentTokenLocation().getLineNr() + ")");
            }
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    file + ": record " + record + " is not valid JSON: " + describe(e) + where(e), e);
        }
    }

    private static String where(JsonProcessingException e) {
        return e.getLocation() == null
                ? ""
                : " (line " + e.getLocation().getLineNr() + ", column "
                        + e.getLocation().getColumnNr() + ")";
    }

    /** JSON Lines: one record per line, blank lines skipped, each line at most {@link #MAX_RECORD_CHARS}. */
    private static void readLines(Path file, InputStream in, List<Example> out) throws IOException {
        Reader reader = new InputStreamReader(
                in,
                StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT));
        StringBuilder line = new StringBuilder();
        char[] buf = new char[8192];
        int lineNr = 1;
        boolean eof = false;
        while (!eof) {
            int n;
            try {
                n = reader.read(buf);
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException(file + ": line " + lineNr + " is not valid UTF-8", e);
            }
            if (n < 0) {
                eof = true;
                n = 0;
            }
            int start = 0;
            for (int i = 0; i < n; i++) {
                if (buf[i] == '\n') {
                    append(file, line, buf, start, i - start, lineNr);
                    record(file, line, lineNr, out);
                    line.setLength(0);
                    lineNr++;
                    start = i + 1;
                }
            }
            append(file, line, buf, start, n - start, lineNr);
        }
        record(file, line, lineNr, out);
    }

    private static void append(Path file, StringBuilder line, char[] buf, int from, int len, int lineNr) {
        if ((long) line.length() + len > MAX_RECORD_CHARS) {
            throw new IllegalArgumentException(
                    file + ": line " + lineNr + " is longer than " + MAX_RECORD_CHARS + " characters");
        }
        line.append(buf, from, len);
    }

    private static void record(Path file, CharSequence line, int lineNr, List<Example> out) {
        String text = line.toString();
        if (text.isBlank()) {
            return;
        }
        String where = "line " + lineNr;
        JsonNode n;
        try {
            n = JSON.readTree(text.charAt(0) == UTF8_BOM ? text.substring(1) : text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": " + where + " is not valid JSON: " + describe(e), e);
        }
        out.add(example(file, n, where));
    }

    /** Jackson's first line, without the source excerpt. */
    private static String describe(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }

    private static Example example(Path file, JsonNode n, String where) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(file + ": " + where + " is not a JSON object");
        }
        return new Example(
                text(file, n, "instruction", where, true),
                text(file, n, "input", where, false),
                text(file, n, "output", where, true),
                text(file, n, "answer", where, false));
    }

    private static String text(Path file, JsonNode n, String key, String where, boolean required) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            if (required) {
                throw new IllegalArgumentException(file + ": " + where + " lacks \"" + key + "\"");
            }
            return "";
        }
        if (!v.isTextual() && !v.isNumber()) {
            throw new IllegalArgumentException(file + ": " + where + ": \"" + key + "\" must be a string");
        }
        return v.asText();
    }
}
