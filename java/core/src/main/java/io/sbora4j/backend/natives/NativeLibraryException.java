package io.sbora4j.backend.natives;

/** A native library could not be found, extracted or opened; the message says which and why. */
public final class NativeLibraryException extends RuntimeException {

    public NativeLibraryException(String message) {
        super(message);
    }

    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
