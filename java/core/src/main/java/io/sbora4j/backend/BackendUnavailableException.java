package io.sbora4j.backend;

/** The backend asked for cannot run here; the message says why (no library, no GPU, ...). */
public final class BackendUnavailableException extends RuntimeException {

    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
