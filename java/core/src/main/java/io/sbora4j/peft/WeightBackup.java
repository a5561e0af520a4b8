package io.sbora4j.peft;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The part of a weight one adapter's merge overwrites, copied out before the merge so that the weight can be put
 * back bit for bit: r columns for SBoRA-FA, r rows for SBoRA-FB, the whole weight for LoRA, LoRA-FA and DoRA (their
 * ΔW is dense). Restoring copies the saved bits back; it never computes {@code W + sΔW - sΔW}, whose rounding is
 * what an exact swap avoids.
 */
final class WeightBackup implements AutoCloseable {

    /** Which part of W the backup holds. */
    enum Region {
        COLUMNS,
        ROWS,
        FULL
    }

    private final Region region;
    private final int[] idx;
    private final Tensor saved;
    private final Arena arena;

    private WeightBackup(Region region, int[] idx, Tensor saved, Arena arena) {
        this.region = region;
        this.idx = idx;
        this.saved = saved;
        this.arena = arena;
    }

    /** The region a merge of {@code a} changes. */
    static Region regionOf(Adapter a) {
        if (a instanceof SboraFaAdapter) {
            return Region.COLUMNS;
        }
        if (a instanceof SboraFbAdapter) {
            return Region.ROWS;
        }
        return Region.FULL;
    }

    /** Copies out of {@code w} (out x in, f32 or bf16) what merging {@code a} would overwrite. */
    static WeightBackup save(Adapter a, Tensor w) {
        Region region = regionOf(a);
        // Shared: a registry may swap out on another thread than the one that swapped in.
        Arena arena = Arena.ofShared();
        try {
            int out = w.dim(0), in = w.dim(1);
            switch (region) {
                case COLUMNS -> {
                    int[] idx = ((SboraFaAdapter) a).indices();
                    Tensor saved = Tensor.empty(arena, w.device(), w.dtype(), out, idx.length);
                    if (w.device().isHost()) {
                        copyColumns(w, saved, idx, true);
                    } else {
                        Backends.of(w.device()).gatherCols(w, Tensor.ofInts(arena, w.device(), idx, idx.length), saved);
                    }
                    return new WeightBackup(region, idx, saved, arena);
                }
                case ROWS -> {
                    int[] idx = ((SboraFbAdapter) a).indices();
                    Tensor saved = Tensor.empty(arena, w.device(), w.dtype(), idx.length, in);
                    for (int j = 0; j < idx.length; j++) {
                        saved.slice(j, 1).copyFrom(w.slice(idx[j], 1));
                    }
                    return new WeightBackup(region, idx, saved, arena);
                }
                default -> {
                    Tensor saved = Tensor.empty(arena, w.device(), w.dtype(), out, in);
                    saved.copyFrom(w);
                    return new WeightBackup(region, null, saved, arena);
                }
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    Region region() {
        return region;
    }

    /** The bytes the backup holds. */
    long bytes() {
        return saved.bytes();
    }

    /**
     * Writes the saved bits back into {@code w}. On a host device (cpu, reference) every element is copied as raw
     * bits. On another device the columns of SBoRA-FA are put back with the backend's kernels as
     * {@code W[:, idx] = (W[:, idx] - W[:, idx]) + saved}, exact for every finite value except a saved -0.0, which
     * comes back as +0.0; rows and whole weights are copied as bytes on every device.
     */
    void restore(Tensor w) {
        switch (region) {
            case COLUMNS -> {
                if (w.device().isHost()) {
                    copyColumns(w, saved, idx, false);
                } else {
                    Backend be = Backends.of(w.device());
                    Tensor ix = Tensor.ofInts(arena, w.device(), idx, idx.length);
                    Tensor now = saved.emptyLike();
                    be.gatherCols(w, ix, now);
                    be.indexAddCols(w, ix, now, -1f);
                    be.indexAddCols(w, ix, saved, 1f);
                }
            }
            case ROWS -> {
                for (int j = 0; j < idx.length; j++) {
                    w.slice(idx[j], 1).copyFrom(saved.slice(j, 1));
                }
            }
            case FULL -> w.copyFrom(saved);
        }
    }

    /** Raw-bit copy between the columns idx of {@code w} and the (out x r) {@code saved}, in either direction. */
    private static void copyColumns(Tensor w, Tensor saved, int[] idx, boolean out) {
        int rows = w.dim(0), in = w.dim(1), r = idx.length;
        MemorySegment ws = w.data(), ss = saved.data();
        if (w.dtype().bytes() == 4) {
            ValueLayout.OfInt l = ValueLayout.JAVA_INT_UNALIGNED;
            for (int i = 0; i < rows; i++) {
                long wr = (long) i * in, sr = (long) i * r;
                for (int j = 0; j < r; j++) {
                    if (out) {
                        ss.setAtIndex(l, sr + j, ws.getAtIndex(l, wr + idx[j]));
                    } else {
                        ws.setAtIndex(l, wr + idx[j], ss.getAtIndex(l, sr + j));
                    }
                }
            }
        } else if (w.dtype().bytes() == 2) {
            ValueLayout.OfShort l = ValueLayout.JAVA_SHORT_UNALIGNED;
            for (int i = 0; i < rows; i++) {
                long wr = (long) i * in, sr = (long) i * r;
                for (int j = 0; j < r; j++) {
                    if (out) {
                        ss.setAtIndex(l, sr + j, ws.getAtIndex(l, wr + idx[j]));
                    } else {
                        ws.setAtIndex(l, wr + idx[j], ss.getAtIndex(l, sr + j));
                    }
                }
            }
        } else {
            throw new IllegalArgumentException("a weight of " + w.dtype() + " cannot be backed up (f32 or bf16 only)");
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
