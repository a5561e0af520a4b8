package io.sbora4j.cuda;

/** A CUDA or cuBLAS call failed; the message names the call and the error (name and description). */
public final class CudaException extends RuntimeException {

    public CudaException(String message) {
        super(message);
    }
}
