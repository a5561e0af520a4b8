package io.sbora4j.tensor;

import java.lang.foreign.Arena;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An owner of tensor memory: tensors created on this thread while a scope is open are allocated in its arena and
 * freed, all together, when it closes. Scopes nest.
 *
 * <p>The whole memory model in three sentences: long-lived tensors (weights, adapters, optimizer state) live in an
 * {@link Arena} their owner creates and closes; every other tensor lives in the innermost open scope of its thread
 * and is freed with it, so a training step (one scope) releases its activations all at once, into a pool of host
 * memory the next step reuses; outside any scope, host tensors fall back to an automatic arena the garbage
 * collector frees, and device tensors are refused.
 *
 * <p><b>The pool.</b> A scope cuts small tensors from 1 MiB slabs by bumping a pointer and gives each large one a
 * block of its size class (eight per doubling); at close its segments die (any later access throws) and the blocks
 * go back to a process-wide pool, so a step that repeats the previous one's shapes takes no memory from the
 * operating system and no page faults. The pool keeps at most as many free bytes as scopes ever held at once,
 * {@link #releasePool()} empties it, and {@link #poolStats()} and {@link #peakBytes()} report it. Pooled memory is
 * not zeroed: {@link Tensor#empty} has unspecified contents, {@link Tensor#zeros} writes its zeros.
 * {@code -Dsbora.memory.pool=false} (or a module without native access) gives each scope fresh memory instead, and
 * {@code -Dsbora.memory.poison=true} fills every new host tensor of {@code Tensor.empty} with NaN (0xFF bytes), so
 * that reading what no kernel wrote fails loudly (the test suites run with it).
 *
 * <pre>{@code
 * try (MemoryScope step = MemoryScope.open()) {
 *     Tensor loss = model.loss(batch);   // activations and temporaries live in `step`
 *     Autograd.backward(loss);            // parameter gradients live with their parameters
 * }                                       // everything of the step is released here
 * }</pre>
 *
 * <p>Large tensors can go back before the close: {@link #release} says their creator is done with them, and the
 * memory returns to the pool once no recorded op keeps it for its backward ({@link #keep}); the backward pass gives
 * back each op's temporaries and consumed gradients as it goes. A training step then holds at most what its backward
 * needs plus one op's temporaries, not everything its forward and backward ever made.
 *
 * <p>Long-lived tensors (parameters, optimizer state) take an explicit arena instead, see
 * {@link Tensor#empty(Arena, Device, DType, int...)}. A scope is confined to the thread that opened it.
 */
public final class MemoryScope implements AutoCloseable {

    /**
     * The pool of host memory behind all scopes. Figures in bytes of pooled blocks (slabs and large tensors' blocks,
     * rounded up to their size class), counts since the process started.
     *
     * @param pooling          whether scopes draw on the pool (false: each scope allocates fresh memory, and every
     *                         other figure is 0)
     * @param inUse            held by open scopes now
     * @param peakInUse        the most open scopes held at once
     * @param pooled           free, kept for the next scopes
     * @param held             taken from the C heap and not given back: {@code inUse + pooled}
     * @param blocksFromSystem blocks ever allocated from the C heap (constant once steps repeat)
     * @param blocksReleased   blocks given back to the C heap (trimmed, or by {@link #releasePool()})
     */
    public record PoolStats(
            boolean pooling,
            long inUse,
            long peakInUse,
            long pooled,
            long held,
            long blocksFromSystem,
            long blocksReleased) {}

    /** The scopes open on one thread, innermost first, and the host memory they hold together. */
    private static final class ThreadScopes {
        final Deque<MemoryScope> stack = new ArrayDeque<>();
        long live;
    }

    private static final ThreadLocal<ThreadScopes> THREAD = ThreadLocal.withInitial(ThreadScopes::new);
    private static final AtomicLong LIVE_SCOPED_BYTES = new AtomicLong();

    private final ThreadScopes thread;
    private final ScopeArena arena;
    private final Thread owner;
    private final long base;
    private long maxLive;
    private long bytes;
    private long releasedBytes;
    private boolean closed;

    private MemoryScope(ThreadScopes thread, boolean retaining) {
        this.thread = thread;
        this.owner = Thread.currentThread();
        this.base = thread.live;
        this.maxLive = base;
        this.arena = new ScopeArena(this, HostMemoryPool.instance(), retaining);
    }

    /** Opens a scope on this thread; tensors created until {@link #close()} belong to it. */
    public static MemoryScope open() {
        return open(false);
    }

    /**
     * Opens a scope that ignores {@link #release} and {@link #releaseSince}: every tensor made in it stays until it
     * closes, as before memory could go back early. For comparisons and for hunting a suspected use of released
     * memory: a computation must give the same bits in either kind of scope.
     */
    public static MemoryScope openRetaining() {
        return open(true);
    }

    private static MemoryScope open(boolean retaining) {
        ThreadScopes t = THREAD.get();
        MemoryScope s = new MemoryScope(t, retaining);
        t.stack.push(s);
        return s;
    }

    /** The innermost open scope of this thread, if any. */
    public static Optional<MemoryScope> current() {
        return Optional.ofNullable(THREAD.get().stack.peek());
    }

    /**
     * The arena a new tensor on {@code device} of this thread goes to: the innermost open scope; outside any scope,
     * an automatic arena for host memory (freed by the garbage collector), and none for device memory, whose
     * release must not wait for a collection that GPU memory pressure does not trigger.
     */
    static Arena arenaFor(Device device) {
        MemoryScope top = THREAD.get().stack.peek();
        if (top != null) {
            return top.arena;
        }
        if (!device.isHost()) {
            throw new IllegalStateException("a tensor on " + device + " outside any MemoryScope: open one (try"
                    + " (MemoryScope s = MemoryScope.open()) { ... }) or give the tensor an arena");
        }
        return Arena.ofAuto();
    }

    /** Records a tensor of {@code size} bytes allocated in {@code arena} (for {@link #bytesAllocated()}). */
    static void recordAllocation(Arena arena, long size) {
        if (arena instanceof ScopeArena s) {
            s.memoryScope().bytes += size;
            s.recordTensor(size);
            LIVE_SCOPED_BYTES.addAndGet(size);
        }
    }

    /** The host memory of this scope's arena grew by {@code size} bytes (on the owner thread). */
    void grew(long size) {
        thread.live += size;
        MemoryScope top = thread.stack.peek();
        top.maxLive = Math.max(top.maxLive, thread.live);
    }

    /** A block of {@code blockBytes} holding a tensor of {@code tensorBytes} went back to the pool early. */
    void shrank(long blockBytes, long tensorBytes) {
        thread.live -= blockBytes;
        releasedBytes += tensorBytes;
        LIVE_SCOPED_BYTES.addAndGet(-tensorBytes);
    }

    // ---------------------------------------------------------------- giving memory back before the close

    /**
     * Says that whoever created {@code t} in a scope has no further use for it (nor for its views): its memory goes
     * back to the pool at once, or, when recorded ops keep it for their backward ({@link #keep}), as soon as the last
     * of them has run. Any later access to {@code t} or a view of it throws, as after the scope's close. Model code
     * calls it on activations after their last use in the forward, so that a training step holds what the backward
     * needs rather than everything the forward made.
     *
     * <p>It applies to host tensors of more than 128 KiB made in an open scope of this thread; for any other tensor
     * (small ones, cut from shared slabs; tensors of an explicit arena; device tensors) it does nothing.
     */
    public static void release(Tensor t) {
        if (t != null && t.arena() instanceof ScopeArena s) {
            s.release(t.data());
        }
    }

    /**
     * One more reason to hold {@code t}'s memory until the scope closes or {@link #unkeep} is called as often: an
     * autograd node keeps what it saved for its backward, and the backward pass keeps the gradients it holds. Does
     * nothing where {@link #release} would.
     */
    public static void keep(Tensor t) {
        if (t.arena() instanceof ScopeArena s) {
            s.keep(t.data());
        }
    }

    /** Undoes one {@link #keep}: the memory goes back if it was released and nothing else keeps it. */
    public static void unkeep(Tensor t) {
        if (t.arena() instanceof ScopeArena s) {
            s.unkeep(t.data());
        }
    }

    /**
     * A mark of this scope's allocations so far, for {@link #releaseSince}: the backward pass marks before each
     * node's rule, so that the temporaries the rule made can go back as soon as it has returned.
     */
    public long allocationMark() {
        return arena.mark();
    }

    /**
     * {@link #release}s every tensor this scope allocated since {@code mark}: what is kept ({@link #keep}) stays until
     * unkept, everything else goes back to the pool now. For code that knows that nothing it made since the mark is
     * referenced any more, except what it keeps.
     */
    public void releaseSince(long mark) {
        arena.releaseSince(mark);
    }

    /** Bytes of tensor memory allocated in this scope so far. */
    public long bytesAllocated() {
        return bytes;
    }

    /**
     * The most host memory this scope and the scopes opened inside it held at once, in bytes of pooled blocks
     * (what the step it wraps needs from the pool); final once it is closed.
     */
    public long peakBytes() {
        return maxLive - base;
    }

    /** Bytes held by all scopes of all threads that are still open: zero when every scope has been closed. */
    public static long liveScopedBytes() {
        return LIVE_SCOPED_BYTES.get();
    }

    /** What the pool of host memory behind the scopes holds now. */
    public static PoolStats poolStats() {
        HostMemoryPool pool = HostMemoryPool.instance();
        return pool == null ? new PoolStats(false, 0, 0, 0, 0, 0, 0) : pool.stats();
    }

    /**
     * Gives every free block of the pool back to the C heap (blocks of open scopes stay theirs); the bytes
     * released. The next steps take memory from the system again, as the first one did.
     */
    public static long releasePool() {
        HostMemoryPool pool = HostMemoryPool.instance();
        return pool == null ? 0 : pool.releaseFree();
    }

    /**
     * The arena of this scope, for callers that allocate other native memory with the same lifetime. Its memory
     * is not zeroed, and it is closed by closing this scope.
     */
    public Arena arena() {
        return arena;
    }

    /**
     * Frees every tensor allocated in this scope: its segments can no longer be accessed, and its memory goes back
     * to the pool. Scopes must be closed innermost first.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("a MemoryScope must be closed by the thread that opened it");
        }
        if (thread.stack.peek() != this) {
            throw new IllegalStateException("MemoryScope closed out of order: close inner scopes first");
        }
        thread.stack.pop();
        closed = true;
        LIVE_SCOPED_BYTES.addAndGet(-(bytes - releasedBytes));
        thread.live -= arena.footprint();
        MemoryScope parent = thread.stack.peek();
        if (parent != null) {
            parent.maxLive = Math.max(parent.maxLive, maxLive);
        }
        arena.release();
        if (parent == null && HostMemoryPool.instance() != null) {
            HostMemoryPool.instance().endEpoch();
        }
    }
}
