package io.sbora4j.testing;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The outcomes of one fuzzed parser: every case is accepted or refused, and a refusal must be a one-line message of
 * a documented exception type (anything else fails the case: another exception class, an {@link Error} such as
 * running out of memory, a message of several lines or none). {@link #summary()} gives the figures.
 */
public final class FuzzCases {

    private final String parser;
    private final List<Class<? extends Exception>> documented;
    private long accepted;
    private final Map<String, Long> refused = new TreeMap<>();

    /** Outcomes of {@code parser}, which may refuse input with the {@code documented} exceptions only. */
    @SafeVarargs
    public FuzzCases(String parser, Class<? extends Exception>... documented) {
        this.parser = parser;
        this.documented = List.of(documented);
    }

    /** A case the parser accepted. */
    public synchronized void accepted() {
        accepted++;
    }

    /** A case the parser refused with {@code t}: checked, then counted. */
    public synchronized void refused(Throwable t) {
        check(t);
        refused.merge(t.getClass().getSimpleName(), 1L, Long::sum);
    }

    /** Checks a refusal without counting it (a second refusal within one case). */
    public void check(Throwable t) {
        if (documented.stream().noneMatch(k -> k.isInstance(t))) {
            throw new AssertionError(
                    parser + ": refused with an undocumented " + t.getClass().getName() + ": " + t, t);
        }
        String msg = t.getMessage();
        if (msg == null || msg.isBlank() || msg.lines().count() != 1) {
            throw new AssertionError(parser + ": a refusal is one line of text, got: " + msg, t);
        }
    }

    /** Cases seen so far. */
    public synchronized long cases() {
        return accepted + refused.values().stream().mapToLong(Long::longValue).sum();
    }

    /** e.g. {@code fuzz config.json: 1000 cases, 871 refused cleanly (IllegalArgumentException 871), 129 accepted}. */
    public synchronized String summary() {
        long r = refused.values().stream().mapToLong(Long::longValue).sum();
        return "fuzz " + parser + ": " + cases() + " cases, " + r + " refused cleanly " + refused + ", " + accepted
                + " accepted, 0 crashes";
    }
}
