package io.sbora4j.dist;

import java.io.Serial;

/**
 * A collective that cannot complete because a rank aborted the group ({@link Communicator#abort}): thrown on every
 * rank that waits in a collective or enters one afterwards, and on the aborting rank itself by communicators whose
 * {@code abort} returns control (threads as ranks).
 */
public final class AbortedException extends IllegalStateException {

    @Serial
    private static final long serialVersionUID = 1L;

    private final int abortingRank;
    private final int code;
    private final String why;

    /** Rank {@code abortingRank} aborted with status {@code code} because of {@code why}. */
    public AbortedException(int abortingRank, int code, String why) {
        super("rank " + abortingRank + " aborted the group (status " + code + "): " + why);
        this.abortingRank = abortingRank;
        this.code = code;
        this.why = why;
    }

    /** The rank that aborted. */
    public int abortingRank() {
        return abortingRank;
    }

    /** The exit status it asked for. */
    public int code() {
        return code;
    }

    /** Its reason, one line. */
    public String why() {
        return why;
    }
}
