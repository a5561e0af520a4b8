package io.sbora4j.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file that is not a well-formed safetensors file (or sharded index), or a tensor in it that cannot be loaded. The
 * message always names the file and, where there is one, the tensor.
 */
public class SafetensorsFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** A problem with {@code file}; {@code problem} says what is wrong. */
    public SafetensorsFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** A problem with {@code file} found by a lower layer (the JSON parser, the UTF-8 decoder). */
    public SafetensorsFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
