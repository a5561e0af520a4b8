package io.sbora4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The arena of a {@link MemoryScope}: confined to the scope's thread, it cuts small requests from slabs of the
 * {@link HostMemoryPool} by bumping a pointer and gives each large one a pooled block of its own; closing it gives
 * the blocks back.
 *
 * <p>Every segment handed out is a view of pooled memory tied, by {@code reinterpret}, to a plain confined arena
 * that lives exactly as long as the scope: after the close, reading or writing through it (or passing it to a
 * native function) throws, as for any closed arena, and the memory can only be reached again through a new scope's
 * own views. Contents are not zeroed: a view holds whatever the block's last user left there.
 *
 * <p>A large tensor's block is tied to a confined arena of its own instead, so that it can go back to the pool
 * before the scope closes ({@link MemoryScope#release}): a block is given back once its creator has released it
 * and no recorded op keeps it for its backward ({@link MemoryScope#keep}); closing its own arena first ends every
 * view of it, so that a stale reference throws instead of reading the block's next user.
 */
final class ScopeArena implements Arena {

    private final MemoryScope scope;
    private final HostMemoryPool pool;
    private final Arena session = Arena.ofConfined();
    private final Thread owner = Thread.currentThread();
    private final List<HostMemoryPool.Block> blocks = new ArrayList<>();
    /** The large tensors' blocks not yet given back, by the scope of their own arena. */
    private final Map<MemorySegment.Scope, Large> large = new HashMap<>();
    /** The same in the order they were allocated (given-back ones are skipped, and dropped now and then). */
    private final List<Large> allocationOrder = new ArrayList<>();

    private long largeAllocated;
    private Large lastLarge;
    private long slabTop;
    private long slabEnd;
    private long footprint;

    private final boolean retaining;

    ScopeArena(MemoryScope scope, HostMemoryPool pool, boolean retaining) {
        this.scope = scope;
        this.pool = pool;
        this.retaining = retaining;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize < 0 || byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw new IllegalArgumentException("invalid allocation: size " + byteSize + ", alignment " + byteAlignment);
        }
        if (Thread.currentThread() != owner) {
            throw new WrongThreadException("a MemoryScope's memory is allocated by the thread that opened it");
        }
        if (!session.scope().isAlive()) {
            throw new IllegalStateException("Already closed");
        }
        if (pool == null) { // no pool: fresh memory, as a plain confined arena gives
            MemorySegment s = session.allocate(byteSize, byteAlignment);
            grow(byteSize);
            return s;
        }
        long n = Math.max(byteSize, 1);
        long address;
        if (n <= HostMemoryPool.SMALL_MAX && byteAlignment <= HostMemoryPool.SMALL_MAX) {
            address = (slabTop + byteAlignment - 1) & -byteAlignment;
            if (slabEnd == 0 || address + n > slabEnd) {
                HostMemoryPool.Block slab = take(HostMemoryPool.SLAB);
                slabEnd = slab.address() + slab.size();
                address = (slab.address() + byteAlignment - 1) & -byteAlignment;
            }
            slabTop = address + n;
        } else if (byteAlignment <= HostMemoryPool.BLOCK_ALIGNMENT) {
            HostMemoryPool.Block b = pool.take(n);
            grow(b.size());
            Large l = new Large(b, Arena.ofConfined(), largeAllocated++);
            large.put(l.session.scope(), l);
            if (allocationOrder.size() >= 64 && large.size() * 2 < allocationOrder.size()) {
                allocationOrder.removeIf(x -> x.givenBack); // keeps the list in step with what is held
            }
            allocationOrder.add(l);
            lastLarge = l;
            return MemorySegment.ofAddress(b.address()).reinterpret(byteSize, l.session, null);
        } else { // an alignment no block has: fresh memory, freed with the scope
            MemorySegment s = session.allocate(byteSize, byteAlignment);
            grow(byteSize);
            return s;
        }
        return MemorySegment.ofAddress(address).reinterpret(byteSize, session, null);
    }

    private HostMemoryPool.Block take(long bytes) {
        HostMemoryPool.Block b = pool.take(bytes);
        blocks.add(b);
        grow(b.size());
        return b;
    }

    private void grow(long bytes) {
        footprint += bytes;
        scope.grew(bytes);
    }

    /** A large tensor's block, with the arena its views are tied to and what keeps it from going back early. */
    private static final class Large {
        final HostMemoryPool.Block block;
        final Arena session;
        final long sequence;
        long tensorBytes;
        int keeps;
        boolean released;
        boolean givenBack;

        Large(HostMemoryPool.Block block, Arena session, long sequence) {
            this.block = block;
            this.session = session;
            this.sequence = sequence;
        }
    }

    /** The large block {@code segment} is a view of, when it is this arena's and still held; else null. */
    private Large largeOf(MemorySegment segment) {
        if (retaining || Thread.currentThread() != owner || large.isEmpty()) {
            return null;
        }
        return large.get(segment.scope());
    }

    /** The tensor of {@code bytes} just allocated (for the live-bytes count when its block goes back early). */
    void recordTensor(long bytes) {
        if (lastLarge != null && !lastLarge.givenBack) {
            lastLarge.tensorBytes = bytes;
        }
        lastLarge = null;
    }

    /** One more reason to hold the block under {@code segment} (a recorded op saved it); no-op for other memory. */
    void keep(MemorySegment segment) {
        Large l = largeOf(segment);
        if (l != null) {
            l.keeps++;
        }
    }

    /** One reason fewer; gives the block back when it was released and nothing keeps it. */
    void unkeep(MemorySegment segment) {
        Large l = largeOf(segment);
        if (l != null) {
            if (l.keeps <= 0) {
                throw new IllegalStateException("unkeep without keep");
            }
            l.keeps--;
            giveBackIfFree(l);
        }
    }

    /** The creator's last use of the block under {@code segment}: it goes back once nothing keeps it. */
    void release(MemorySegment segment) {
        Large l = largeOf(segment);
        if (l != null) {
            l.released = true;
            giveBackIfFree(l);
        }
    }

    /** How many large blocks this arena has allocated so far: a mark for {@link #releaseSince}. */
    long mark() {
        return largeAllocated;
    }

    /** Releases every large block allocated since {@code mark} (see {@link #release}). */
    void releaseSince(long mark) {
        if (retaining) {
            return;
        }
        for (int i = allocationOrder.size() - 1; i >= 0; i--) {
            Large l = allocationOrder.get(i);
            if (l.sequence < mark) {
                break;
            }
            if (!l.givenBack) {
                l.released = true;
                giveBackIfFree(l);
            }
        }
    }

    private void giveBackIfFree(Large l) {
        if (!l.released || l.keeps > 0 || l.givenBack) {
            return;
        }
        l.givenBack = true;
        large.remove(l.session.scope());
        l.session.close(); // every view dies before the block can serve anyone else
        pool.give(List.of(l.block));
        footprint -= l.block.size();
        scope.shrank(l.block.size(), l.tensorBytes);
    }

    MemoryScope memoryScope() {
        return scope;
    }

    /** Bytes of host memory (pooled blocks, or fresh allocations without a pool) this arena holds. */
    long footprint() {
        return footprint;
    }

    @Override
    public MemorySegment.Scope scope() {
        return session.scope();
    }

    /** Refused: the memory goes back when its {@link MemoryScope} closes. */
    @Override
    public void close() {
        throw new UnsupportedOperationException("close the MemoryScope that owns this arena");
    }

    /**
     * Ends every segment of this arena, then gives its blocks back to the pool: no view can reach a block by the
     * time another scope may take it.
     */
    void release() {
        try {
            session.close();
            for (Large l : large.values()) {
                l.session.close();
                l.givenBack = true;
                blocks.add(l.block);
            }
            large.clear();
            allocationOrder.clear();
        } finally {
            if (!session.scope().isAlive() && pool != null) {
                pool.give(blocks);
                blocks.clear();
            }
        }
    }
}
