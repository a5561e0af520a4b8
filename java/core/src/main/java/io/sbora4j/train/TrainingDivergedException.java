package io.sbora4j.train;

/** The loss or the gradient norm became NaN or infinite; training stopped without taking the step. */
public final class TrainingDivergedException extends RuntimeException {

    public TrainingDivergedException(String message) {
        super(message);
    }
}
