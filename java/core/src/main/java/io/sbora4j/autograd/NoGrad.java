package io.sbora4j.autograd;

/**
 * A scope in which ops record nothing for backward (inference, merges, optimizer updates).
 *
 * <pre>{@code
 * try (NoGrad ignored = NoGrad.enter()) { ... }
 * }</pre>
 * Per thread; nests.
 */
public final class NoGrad implements AutoCloseable {

    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private boolean closed;

    private NoGrad() {}

    public static NoGrad enter() {
        DEPTH.get()[0]++;
        return new NoGrad();
    }

    /** Whether ops on this thread record the graph now. */
    public static boolean isRecording() {
        return DEPTH.get()[0] == 0;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            DEPTH.get()[0]--;
        }
    }
}
