package io.sbora4j.tensor;

import java.lang.foreign.Arena;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An owner of tensor memory: tensors created on this thread while a scope is open are allocated in its arena and
 * freed, all together, when it closes. Scopes nest.
 *
 * <p>The whole memory model in three sentences: long-lived tensors (weights, adapters, optimizer state) live in an
 * {@link Arena} their owner creates and closes; every other tensor lives in the innermost open scope of its thread
 * and is freed with it, so a training step (one scope) releases its activations all at once; outside any scope,
 * host tensors fall back to an automatic arena the garbage collector frees, and device tensors are refused.
 *
 * <pre>{@code
 * try (MemoryScope step = MemoryScope.open()) {
 *     Tensor loss = model.loss(batch);   // activations and temporaries live in `step`
 *     Autograd.backward(loss);            // parameter gradients live with their parameters
 * }                                       // everything of the step is released here
 * }</pre>
 *
 * <p>Long-lived tensors (parameters, optimizer state) take an explicit arena instead, see
 * {@link Tensor#empty(Arena, Device, DType, int...)}. A scope is confined to the thread that opened it.
 */
public final class MemoryScope implements AutoCloseable {

    private static final ThreadLocal<Deque<MemoryScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);
    private static final AtomicLong LIVE_SCOPED_BYTES = new AtomicLong();

    private final Arena arena;
    private final Thread owner;
    private long bytes;
    private boolean closed;

    private MemoryScope(Arena arena) {
        this.arena = arena;
        this.owner = Thread.currentThread();
    }

    /** Opens a scope on this thread; tensors created until {@link #close()} belong to it. */
    public static MemoryScope open() {
        MemoryScope s = new MemoryScope(Arena.ofConfined());
        STACK.get().push(s);
        return s;
    }

    /**
     * The arena a new tensor on {@code device} of this thread goes to: the innermost open scope; outside any scope,
     * an automatic arena for host memory (freed by the garbage collector), and none for device memory, whose
     * release must not wait for a collection that GPU memory pressure does not trigger.
     */
    static Arena arenaFor(Device device) {
        MemoryScope top = STACK.get().peek();
        if (top != null) {
            return top.arena;
        }
        if (!device.isHost()) {
            throw new IllegalStateException("a tensor on " + device + " outside any MemoryScope: open one (try"
                    + " (MemoryScope s = MemoryScope.open()) { ... }) or give the tensor an arena");
        }
        return Arena.ofAuto();
    }

    /** Records an allocation made in the innermost scope (for {@link #bytesAllocated()} and leak checks). */
    static void recordAllocation(Arena arena, long size) {
        MemoryScope top = STACK.get().peek();
        if (top != null && top.arena == arena) {
            top.bytes += size;
            LIVE_SCOPED_BYTES.addAndGet(size);
        }
    }

    /** Bytes of tensor memory allocated in this scope so far. */
    public long bytesAllocated() {
        return bytes;
    }

    /** Bytes held by all scopes of all threads that are still open: zero when every scope has been closed. */
    public static long liveScopedBytes() {
        return LIVE_SCOPED_BYTES.get();
    }

    /** The arena of this scope, for callers that allocate other native memory with the same lifetime. */
    public Arena arena() {
        return arena;
    }

    /** Frees every tensor allocated in this scope. Scopes must be closed innermost first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("a MemoryScope must be closed by the thread that opened it");
        }
        Deque<MemoryScope> stack = STACK.get();
        if (stack.peek() != this) {
            throw new IllegalStateException("MemoryScope closed out of order: close inner scopes first");
        }
        stack.pop();
        closed = true;
        LIVE_SCOPED_BYTES.addAndGet(-bytes);
        arena.close();
    }
}
