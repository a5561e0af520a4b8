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
 * rounding). Free blocks wait in a list per class; a request takes the most recently returned block of its class,
 * else one of the next two classes (at most a quarter larger), and falls back to the system when there is none.
 * Bounds: before it takes a new block from the system, the pool gives back free blocks of the classes that the
 * current epoch (since a thread last closed its outermost scope: the current step) has not taken, least recently
 * taken first, until in use, free and the new block together fit under the most scopes ever held at once
 * ({@link MemoryScope.PoolStats#peakInUse()}); free bytes over that peak go back when blocks return if their class
 * was taken in neither this epoch nor the one before; and it never holds more than twice the peak. So a step that
 * repeats the previous one's shapes takes nothing from the system (the classes it needs all came back free from
 * the previous step), while a step with another sequence length gives back the old length's blocks as it takes
 * new ones, instead of adding up every length it has seen. When the
 * system refuses, every free block is released and the request tried once more. One lock guards the lists; a scope
 * takes it once per slab or large tensor.
 *
 * <p>On Linux the blocks are anonymous mappings ({@code mmap}/{@code munmap}), so that a block given back leaves the
 * process's resident memory at once; a {@code free}d chunk of the C heap may stay resident. Elsewhere they come
 * from {@code malloc}.
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

    /** Anonymous private mappings on Linux: {@code PROT_READ | PROT_WRITE}, {@code MAP_PRIVATE | MAP_ANONYMOUS}. */
    private static final int PROT_READ_WRITE = 0x3;

    private static final int MAP_PRIVATE_ANONYMOUS = 0x22;

    /** How many classes above a request's own a free block may come from (eight per doubling: 2 is under 1/4 more). */
    private static final int LARGER_CLASSES = 2;

    private final MethodHandle malloc;
    private final MethodHandle free;
    private final MethodHandle mmap;
    private final MethodHandle munmap;
    private final Map<Long, ArrayDeque<Block>> freeLists = new HashMap<>();
    private final Map<Long, Long> lastTaken = new HashMap<>();
    /** The epoch (see {@link #endEpoch}) in which each class was last taken. */
    private final Map<Long, Long> lastTakenEpoch = new HashMap<>();

    private long clock;
    private long epoch;
    private long inUse;
    private long peakInUse;
    private long pooled;
    private long blocksFromSystem;
    private long blocksReleased;

    private HostMemoryPool(MethodHandle malloc, MethodHandle free, MethodHandle mmap, MethodHandle munmap) {
        this.malloc = malloc;
        this.free = free;
        this.mmap = mmap;
        this.munmap = munmap;
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
            MethodHandle mmap = null, munmap = null;
            if (System.getProperty("os.name", "").startsWith("Linux")) {
                mmap = linker.downcallHandle(
                        libc.find("mmap").orElseThrow(),
                        FunctionDescriptor.of(
                                ValueLayout.ADDRESS,
                                ValueLayout.ADDRESS,
                                ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_LONG));
                munmap = linker.downcallHandle(
                        libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            }
            return new HostMemoryPool(malloc, free, mmap, munmap);
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

    /** The class above {@code size}'s (a class size itself). */
    static long nextClass(long size) {
        return classSize(size + 1);
    }

    /**
     * A block of at least {@code classSize(bytes)} bytes: a free one of that class or of one of the next
     * {@value #LARGER_CLASSES}, else a new one from the system, before which free blocks of classes this epoch has
     * not taken go back as far as needed to stay under the peak in use.
     */
    Block take(long bytes) {
        long size = classSize(bytes);
        synchronized (this) {
            lastTaken.put(size, ++clock);
            lastTakenEpoch.put(size, epoch);
            long c = size;
            for (int k = 0; k <= LARGER_CLASSES; k++, c = nextClass(c)) {
                ArrayDeque<Block> q = freeLists.get(c);
                Block b = q == null ? null : q.pollFirst();
                if (b != null) {
                    lastTakenEpoch.put(c, epoch); // a class that serves this step, even as a stand-in
                    pooled -= b.size();
                    use(b.size());
                    return b;
                }
            }
            // what this block adds to what the pool holds should fit under the peak it has needed: free blocks of
            // classes this epoch has not taken go back first. A step that repeats the previous one's shapes never
            // gets here (every class it needs is free), so only a step with new shapes (another sequence length)
            // gives back the blocks of the old ones as it takes new ones
            long peakAfter = Math.max(peakInUse, inUse + size);
            if (inUse + pooled + size > peakAfter) {
                trim(Math.max(0, peakAfter - inUse - size), epoch);
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

    /**
     * Takes back blocks (of a closed scope, or released early). Free bytes over the peak in use go back to the
     * system: blocks of classes the last two epochs did not take first, and whatever it takes to hold no more than
     * twice the peak. (Blocks a step gives back before it ends serve other classes later in the step, so the blocks
     * one step needs can add up to more than its peak; keeping those is what makes the next step free.)
     */
    synchronized void give(List<Block> blocks) {
        for (Block b : blocks) {
            freeLists.computeIfAbsent(b.size(), k -> new ArrayDeque<>()).addFirst(b);
            pooled += b.size();
            inUse -= b.size();
        }
        if (pooled > peakInUse) {
            trim(peakInUse, epoch - 1);
        }
        if (inUse + pooled > 2 * peakInUse) {
            trim(Math.max(0, 2 * peakInUse - inUse), Long.MAX_VALUE);
        }
    }

    /** Returns free blocks to the C heap until at most {@code keep} bytes are free; the bytes released. */
    private long trim(long keep, long takenBefore) {
        List<Long> sizes = new ArrayList<>(freeLists.keySet());
        sizes.removeIf(c -> lastTakenEpoch.getOrDefault(c, -1L) >= takenBefore);
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
        return trim(0, Long.MAX_VALUE);
    }

    /**
     * Ends an epoch: a thread closed its outermost scope (a training step, typically). Blocks of classes taken in
     * neither this epoch nor the one before are the first to go back when the pool would grow past its peak.
     */
    synchronized void endEpoch() {
        epoch++;
    }

    synchronized MemoryScope.PoolStats stats() {
        return new MemoryScope.PoolStats(
                true, inUse, peakInUse, pooled, inUse + pooled, blocksFromSystem, blocksReleased);
    }

    private Block allocate(long size) {
        long raw = systemAllocate(size);
        if (raw == 0) {
            synchronized (this) {
                releaseFree();
            }
            raw = systemAllocate(size); // retry with the cached blocks returned
        }
        if (raw == 0) {
            throw new OutOfMemoryError("cannot allocate " + size + " bytes of host memory for tensors");
        }
        long address = (raw + BLOCK_ALIGNMENT - 1) & -BLOCK_ALIGNMENT;
        return new Block(raw, address, size);
    }

    /** A mapping of {@code size} bytes (page aligned) or a C heap chunk with room to align; 0 when refused. */
    private long systemAllocate(long size) {
        if (mmap == null) {
            return malloc(size + BLOCK_ALIGNMENT);
        }
        try {
            long a = ((MemorySegment)
                            mmap.invokeExact(MemorySegment.NULL, size, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L))
                    .address();
            return a == -1L ? 0 : a; // MAP_FAILED
        } catch (Throwable t) {
            throw new IllegalStateException("mmap failed", t);
        }
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
            if (munmap == null) {
                free.invokeExact(MemorySegment.ofAddress(b.raw()));
            } else {
                int rc = (int) munmap.invokeExact(MemorySegment.ofAddress(b.raw()), b.size());
                if (rc != 0) {
                    throw new IllegalStateException("munmap of " + b.size() + " bytes failed");
                }
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
        blocksReleased++;
    }
}
