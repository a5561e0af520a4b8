package io.sbora4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The arena of a {@link MemoryScope}: confined to the scope's thread, it cuts small requests from slabs of the
 * {@link HostMemoryPool} by bumping a pointer and gives each large one a pooled block of its own; closing it gives
 * the blocks back.
 *
 * <p>Every segment handed out is a view of pooled memory tied, by {@code reinterpret}, to a plain confined arena
 * that lives exactly as long as the scope: after the close, reading or writing through it (or passing it to a
 * native function) throws, as for any closed arena, and the memory can only be reached again through a new scope's
 * own views. Contents are not zeroed: a view holds whatever the block's last user left there.
 */
final class ScopeArena implements Arena {

    private final MemoryScope scope;
    private final HostMemoryPool pool;
    private final Arena session = Arena.ofConfined();
    private final Thread owner = Thread.currentThread();
    private final List<HostMemoryPool.Block> blocks = new ArrayList<>();
    private long slabTop;
    private long slabEnd;
    private long footprint;

    ScopeArena(MemoryScope scope, HostMemoryPool pool) {
        this.scope = scope;
        this.pool = pool;
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
            address = take(n).address();
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
        } finally {
            if (!session.scope().isAlive() && pool != null) {
                pool.give(blocks);
                blocks.clear();
            }
        }
    }
}
