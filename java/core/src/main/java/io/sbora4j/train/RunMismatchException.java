package io.sbora4j.train;

import java.io.Serial;
import java.util.List;

/** A checkpoint or an adapter belongs to a run with other settings than the one asked for: a one-line message. */
public final class RunMismatchException extends IllegalArgumentException {

    @Serial
    private static final long serialVersionUID = 1L;

    private final List<String> differences;

    RunMismatchException(String message, List<String> differences) {
        super(message);
        this.differences = List.copyOf(differences);
    }

    /** Each differing field as {@code name: old -> new}. */
    public List<String> differences() {
        return differences;
    }
}
