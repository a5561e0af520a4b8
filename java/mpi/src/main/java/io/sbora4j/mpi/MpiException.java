package io.sbora4j.mpi;

/**
 * An MPI function returned an error code: the message names the function, the rank and what
 * {@code MPI_Error_string} says about the code, on one line.
 */
public final class MpiException extends RuntimeException {

    private final int errorCode;
    private final int rank;

    /** The error {@code errorCode} of an MPI call on {@code rank}, described by {@code message}. */
    public MpiException(String message, int errorCode, int rank) {
        super(message);
        this.errorCode = errorCode;
        this.rank = rank;
    }

    /** The MPI error code the call returned. */
    public int errorCode() {
        return errorCode;
    }

    /** The rank the call failed on, or -1 when it failed before the rank was known. */
    public int rank() {
        return rank;
    }
}
