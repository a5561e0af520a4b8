package io.sbora4j.tensor;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The host memory behind {@link MemoryScope}s: blocks taken from the C heap once and handed from scope to scope, so
 * that a training step after the first takes no memory from the operating system (and no page faults).
 *
 * <p>A block is either a slab of {@link #SLAB} bytes, which a scope fills with small tensors by bumping a pointer,
 * or one large tensor's block, rounded up to a size class (eight classes per doubling, so at most 1/8 is lost to
 * rounding). Free blocks wait in a list per class; a request takes the most recently returned block of its class
 * and falls back to {@code malloc} when there is none. The pool keeps at most as many free bytes as scopes ever
 * held at once ({@link MemoryScope.PoolStats#peakInUse()}): when a close leaves more free (other sizes than before), the classes
 * taken from least recently go back to the C heap first. When {@code malloc} fails, every free block is released
 * and the request tried once more. One lock guards the lists; a scope takes it once per slab or large tensor.
 *
 * <p>Blocks carry no lifetime of their own: a scope hands out views of them tied to its own arena (see
 * {@link ScopeArena}), so the views die when the scope closes, before the block can go to another scope.
 */
final class HostMemoryPool {

    /** Size of the slabs small tensors are cut from. */
    static final long SLAB = 1L << 20;
    /** Largest request cut from a slab; anything larger gets a block of its own. */
    static final long SMALL_MAX = SLAB / 8;
    /** Alignment of every block (and so the largest alignment a large request gets for free). */
    static final long BLOCK_ALIGNMENT = Tensor.ALIGNMENT;

    /** A block of C heap memory: {@code address} (aligned) within what {@code malloc} returned at {@code raw}. */
    record Block(long raw, long address, long size) {}

    private static final HostMemoryPool INSTANCE =
            create(Boolean.parseBoolean(System.getProperty("sbora.memory.pool", "true")));

    private final MethodHandle malloc;
    private final MethodHandle free;
    private final Map<Long, ArrayDeque<Block>> freeLists = new HashMap<>();
    private final Map<Long, Long> lastTaken = new HashMap<>();
    private long clock;
    private long inUse;
    private long peakInUse;
    private long pooled;
    private long blocksFromSystem;
    private long blocksReleased;

    private HostMemoryPool(MethodHandle malloc, MethodHandle free) {
        this.malloc = malloc;
        this.free = free;
    }

    /**
     * The process's pool, or null when this module may not use restricted methods (the C heap through downcalls,
     * and {@code reinterpret} to tie a view to a scope): scopes then allocate fresh memory as plain confined
     * arenas do. {@code -Dsbora.memory.pool=false} turns the pool off.
     */
    static HostMemoryPool instance() {
        return INSTANCE;
    }

    /** A new pool when {@code enabled} and this module has native access, else null. */
    static HostMemoryPool create(boolean enabled) {
        if (!enabled || !HostMemoryPool.class.getModule().isNativeAccessEnabled()) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            MethodHandle malloc = linker.downcallHandle(
                    libc.find("malloc").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            MethodHandle free = linker.downcallHandle(
                    libc.find("free").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
            return new HostMemoryPool(malloc, free);
        } catch (RuntimeException e) { // no C library to call: scopes allocate as plain arenas do
            return null;
        }
    }

    /** The block size a request of {@code bytes} is served from: a slab, or one of eight classes per doubling. */
    static long classSize(long bytes) {
        if (bytes <= SMALL_MAX) {
            return SLAB;
        }
        int log = 63 - Long.numberOfLeadingZeros(bytes - 1);
        long step = Math.max(4096, 1L << (log - 3));
        return (bytes + step - 1) / step * step;
    }

    /** A block of {@code classSize(bytes)} bytes, from the free lists or else from the C heap. */
    Block take(long bytes) {
        long size = classSize(bytes);
        synchronized (this) {
            lastTaken.put(size, ++clock);
            ArrayDeque<Block> q = freeLists.get(size);
            Block b = q == null ? null : q.pollFirst();
            if (b != null) {
                pooled -= size;
                use(size);
                return b;
            }
        }
        Block b = allocate(size);
        synchronized (this) {
            blocksFromSystem++;
            use(size);
        }
        return b;
    }

    private void use(long size) {
        inUse += size;
        peakInUse = Math.max(peakInUse, inUse);
    }

    /** Takes back the blocks of a closed scope; frees what exceeds the peak, oldest classes first. */
    synchronized void give(List<Block> blocks) {
        for (Block b : blocks) {
            freeLists.computeIfAbsent(b.size(), k -> new ArrayDeque<>()).addFirst(b);
            pooled += b.size();
            inUse -= b.size();
        }
        if (pooled > peakInUse) {
            trim(peakInUse);
        }
    }

    /** Returns free blocks to the C heap until at most {@code keep} bytes are free; the bytes released. */
    private long trim(long keep) {
        List<Long> sizes = new ArrayList<>(freeLists.keySet());
        sizes.sort(Comparator.comparingLong(s -> lastTaken.getOrDefault(s, 0L)));
        long released = 0;
        for (long size : sizes) {
            ArrayDeque<Block> q = freeLists.get(size);
            while (pooled > keep && !q.isEmpty()) {
                release(q.pollLast());
                pooled -= size;
                released += size;
            }
            if (q.isEmpty()) {
                freeLists.remove(size);
            }
            if (pooled <= keep) {
                break;
            }
        }
        return released;
    }

    /** Returns every free block to the C heap; the bytes released. Blocks in use stay with their scopes. */
    synchronized long releaseFree() {
        return trim(0);
    }

    synchronized MemoryScope.PoolStats stats() {
        return new MemoryScope.PoolStats(
                true, inUse, peakInUse, pooled, inUse + pooled, blocksFromSystem, blocksReleased);
    }

    private Block allocate(long size) {
        long raw = malloc(size + BLOCK_ALIGNMENT);
        if (raw == 0 && releaseFree() > 0) {
            raw = malloc(size + BLOCK_ALIGNMENT); // retry with the cached blocks returned
        }
        if (raw == 0) {
            throw new OutOfMemoryError("cannot allocate " + size + " bytes of host memory for tensors");
        }
        long address = (raw + BLOCK_ALIGNMENT - 1) & -BLOCK_ALIGNMENT;
        return new Block(raw, address, size);
    }

    private long malloc(long bytes) {
        try {
            return ((MemorySegment) malloc.invokeExact(bytes)).address();
        } catch (Throwable t) {
            throw new IllegalStateException("malloc failed", t);
        }
    }

    private void release(Block b) {
        try {
            free.invokeExact(MemorySegment.ofAddress(b.raw()));
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
        blocksReleased++;
    }
}
