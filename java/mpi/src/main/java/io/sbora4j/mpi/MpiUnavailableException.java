package io.sbora4j.mpi;

/**
 * MPI cannot be used in this process: no library was found, the one found is not an MPI this binding knows, or it
 * could not be initialised. The message is one line that says which and why.
 */
public final class MpiUnavailableException extends RuntimeException {

    /** An exception whose message is {@code reason}. */
    public MpiUnavailableException(String reason) {
        super(reason);
    }

    /** An exception whose message is {@code reason}, caused by {@code cause}. */
    public MpiUnavailableException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
