package io.sbora4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small text files read whole: their size capped before anything is allocated, their UTF-8 checked strictly. */
final class TextFiles {

    private TextFiles() {}

    /**
     * The text of {@code file}, at most {@code maxBytes} long.
     *
     * @throws IllegalArgumentException naming the file, if it is larger or not valid UTF-8
     * @throws IOException              if it cannot be read
     */
    static String readUtf8(Path file, long maxBytes) throws IOException {
        long size = Files.size(file);
        if (size > maxBytes) {
            throw new IllegalArgumentException(
                    file + " is " + size + " bytes, more than the " + maxBytes + " such a file may hold");
        }
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length > maxBytes) { // it grew since
            throw new IllegalArgumentException(
                    file + " is " + bytes.length + " bytes, more than the " + maxBytes + " such a file may hold");
        }
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + " is not valid UTF-8", e);
        }
    }
}
