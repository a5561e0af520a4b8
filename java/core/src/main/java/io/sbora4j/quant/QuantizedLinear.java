package io.sbora4j.quant;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.nn.Linear;
import io.sbora4j.nn.LinearInputs;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Shape;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A frozen linear layer over an {@link Nf4Weight} (QLoRA's base): forward and backward dequantise W on the fly,
 * {@link #TILE_BYTES} bytes of f32 rows at a time (8 MiB by default), so the f32 weight never exists whole (unless it fits in one
 * tile). The base gets no gradient; dx flows through the dequantised weight. Adapters attach to it like to a
 * {@link Linear}; merges follow the layer's {@link MergeMode}.
 */
public final class QuantizedLinear implements FrozenLinear {

    /** Size of the f32 tile of W dequantised at a time. */
    public static final long TILE_BYTES = 8L << 20;

    /**
     * Merged f32 values kept beside the NF4 weight: whole columns, whole rows, or everything; in host memory
     * whatever the layer's device.
     */
    private record Overlay(int[] cols, int[] rows, Tensor values) {}

    /** What a merge changed, to take it back. */
    private record Undo(Nf4Weight.Snapshot snapshot, Overlay previousOverlay) {}

    /** What the last merge did. */
    public record MergeReport(
            MergeMode mode,
            int blocksTouched,
            int blocks,
            double maxAbsError,
            int overlayColumns,
            int overlayRows,
            boolean overlayDense) {}

    private final String name;
    private final Nf4Weight weight;
    private final Device device;
    private final MergeMode mode;
    private final long tileBytes;
    private Overlay overlay;
    private final Deque<Undo> undo = new ArrayDeque<>();
    private MergeReport lastMerge;

    private QuantizedLinear(String name, Nf4Weight weight, Device device, MergeMode mode, long tileBytes) {
        this.name = name;
        this.weight = weight;
        this.device = device;
        this.mode = mode;
        this.tileBytes = tileBytes;
    }

    /** Quantises {@code layer}'s weight into {@code arena}; the f32 weight is not kept. */
    public static QuantizedLinear quantize(FrozenLinear layer, MergeMode mode, Arena arena) {
        return quantize(layer, mode, arena, TILE_BYTES);
    }

    /** As {@link #quantize(FrozenLinear, MergeMode, Arena)}, dequantising {@code tileBytes} of f32 rows at a time. */
    public static QuantizedLinear quantize(FrozenLinear layer, MergeMode mode, Arena arena, long tileBytes) {
        if (tileBytes < 1) {
            throw new IllegalArgumentException("tile size must be positive, got " + tileBytes);
        }
        Tensor w = layer.denseWeight();
        return new QuantizedLinear(layer.name(), Nf4Weight.quantize(w, arena), w.device(), mode, tileBytes);
    }

    public Nf4Weight nf4() {
        return weight;
    }

    public MergeMode mergeMode() {
        return mode;
    }

    /** What the last merge did (null before any). */
    public MergeReport lastMerge() {
        return lastMerge;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int inFeatures() {
        return weight.cols();
    }

    @Override
    public int outFeatures() {
        return weight.rows();
    }

    /** Rows of W per tile. */
    private int tileRows() {
        long perRow = 4L * weight.cols();
        return (int) Math.max(1, Math.min(weight.rows(), tileBytes / perRow));
    }

    /** Rows [r0, r0 + k) of W in f32 with the overlay applied. */
    private Tensor tile(int r0, int k) {
        Tensor t = Tensor.empty(device, DType.F32, k, weight.cols());
        weight.dequantize((long) r0 * weight.cols(), t);
        if (overlay != null) {
            applyOverlay(t, r0, k);
        }
        return t;
    }

    /**
     * Writes the overlay's rows [r0, r0 + k) into the tile. The overlay values live in host memory; on a GPU the
     * tile makes a round trip through the host (correct to the bit, not fast: {@link MergeMode#REQUANTIZE} is the
     * mode for serving a merged NF4 layer from a GPU).
     */
    private void applyOverlay(Tensor tile, int r0, int k) {
        Tensor t = tile.device().isHost() ? tile : tile.copyInto(Arena.ofAuto(), Device.CPU);
        applyOverlayOnHost(t, r0, k);
        if (t != tile) {
            tile.copyFrom(t);
        }
    }

    private void applyOverlayOnHost(Tensor t, int r0, int k) {
        int cols = weight.cols();
        if (overlay.values().shape().equals(Shape.of(weight.rows(), cols))) {
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < cols; j++) {
                    t.setFloat((long) i * cols + j, overlay.values().getFloat((long) (r0 + i) * cols + j));
                }
            }
        } else if (overlay.cols() != null) {
            int c = overlay.cols().length;
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < c; j++) {
                    t.setFloat(
                            (long) i * cols + overlay.cols()[j],
                            overlay.values().getFloat((long) (r0 + i) * c + j));
                }
            }
        } else {
            for (int j = 0; j < overlay.rows().length; j++) {
                int row = overlay.rows()[j];
                if (row >= r0 && row < r0 + k) {
                    for (int c = 0; c < cols; c++) {
                        t.setFloat(
                                (long) (row - r0) * cols + c, overlay.values().getFloat((long) j * cols + c));
                    }
                }
            }
        }
    }

    @Override
    public Tensor denseWeight() {
        return tile(0, weight.rows());
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public DType computeType() {
        return DType.F32;
    }

    @Override
    public Tensor forwardRaw(Tensor x2) {
        Backend be = Backends.of(device);
        int out = weight.rows(), step = tileRows();
        if (step >= out) {
            Tensor y = Tensor.empty(device, DType.F32, x2.dim(0), out);
            try (MemoryScope ignored = MemoryScope.open()) {
                be.gemm(false, true, 1f, x2, tile(0, out), 0f, y);
            }
            return y;
        }
        Tensor y = Tensor.zeros(device, x2.dim(0), out); // the tiles' products are added into it
        for (int r0 = 0; r0 < out; r0 += step) {
            int k = Math.min(step, out - r0);
            try (MemoryScope ignored = MemoryScope.open()) {
                Tensor part = Tensor.empty(device, DType.F32, x2.dim(0), k);
                be.gemm(false, true, 1f, x2, tile(r0, k), 0f, part);
                be.indexAddCols(y, range(r0, k), part, 1f);
            }
        }
        return y;
    }

    @Override
    public Tensor backwardRaw(Tensor dy) {
        Backend be = Backends.of(device);
        int out = weight.rows(), step = tileRows();
        if (step >= out) {
            Tensor dx = Tensor.empty(device, DType.F32, dy.dim(0), weight.cols());
            try (MemoryScope ignored = MemoryScope.open()) {
                be.gemm(false, false, 1f, dy, tile(0, out), 0f, dx);
            }
            return dx;
        }
        Tensor dx = Tensor.zeros(device, dy.dim(0), weight.cols()); // the tiles' products are added into it
        for (int r0 = 0; r0 < out; r0 += step) {
            int k = Math.min(step, out - r0);
            try (MemoryScope ignored = MemoryScope.open()) {
                Tensor dyPart = Tensor.empty(device, DType.F32, dy.dim(0), k);
                be.gatherCols(dy, range(r0, k), dyPart);
                be.gemm(false, false, 1f, dyPart, tile(r0, k), 1f, dx);
            }
        }
        return dx;
    }

    private Tensor range(int r0, int k) {
        int[] idx = new int[k];
        for (int i = 0; i < k; i++) {
            idx[i] = r0 + i;
        }
        return Tensor.ofInts(device, idx, k);
    }

    /** y = x·dequant(W)ᵀ, with dx through the dequantised weight when x needs a gradient. */
    @Override
    public Tensor forward(Tensor x) {
        Tensor x2 = flatten(x);
        Tensor y = forwardRaw(x2);
        return unflatten(
                Autograd.record(y, "nf4_linear", List.of(x2), List.of(), dy -> new Tensor[] {backwardRaw(dy)}), x);
    }

    @Override
    public Tensor flatten(Tensor x) {
        return LinearInputs.flatten(name, inFeatures(), x, true);
    }

    @Override
    public Tensor flattenUnchecked(Tensor x) {
        return LinearInputs.flatten(name, inFeatures(), x, false);
    }

    @Override
    public Tensor unflatten(Tensor y, Tensor x) {
        return LinearInputs.unflatten(outFeatures(), y, x);
    }

    @Override
    public void mergeDelta(Consumer<Tensor> addDelta) {
        Tensor before = denseWeight();
        Tensor merged = before.emptyLike();
        merged.copyFrom(before);
        addDelta.accept(merged);
        float[] b = before.toFloatArray(), m = merged.toFloatArray();
        int cols = weight.cols(), rows = weight.rows();
        BitSet blocks = new BitSet(weight.blocks());
        BitSet changedCols = new BitSet(cols), changedRows = new BitSet(rows);
        for (int i = 0; i < b.length; i++) {
            if (Float.floatToRawIntBits(b[i]) != Float.floatToRawIntBits(m[i])) {
                blocks.set(i / Nf4Weight.BLOCK);
                changedCols.set(i % cols);
                changedRows.set(i / cols);
            }
        }
        if (mode == MergeMode.REQUANTIZE) {
            Nf4Weight.Snapshot snap = weight.snapshot(blocks);
            double err = weight.requantize(merged, blocks);
            undo.push(new Undo(snap, overlay));
            lastMerge = new MergeReport(mode, blocks.cardinality(), weight.blocks(), err, 0, 0, false);
            return;
        }
        Overlay next;
        int nc = changedCols.cardinality(), nr = changedRows.cardinality();
        if ((long) nc * rows <= (long) nr * cols && nc < cols) {
            int[] c = changedCols.stream().toArray();
            Tensor v = Tensor.empty(Arena.ofAuto(), Device.CPU, DType.F32, rows, c.length);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < c.length; j++) {
                    v.setFloat((long) i * c.length + j, m[i * cols + c[j]]);
                }
            }
            next = new Overlay(c, null, v);
        } else if (nr < rows) {
            int[] r = changedRows.stream().toArray();
            Tensor v = Tensor.empty(Arena.ofAuto(), Device.CPU, DType.F32, r.length, cols);
            for (int j = 0; j < r.length; j++) {
                for (int c = 0; c < cols; c++) {
                    v.setFloat((long) j * cols + c, m[r[j] * cols + c]);
                }
            }
            next = new Overlay(null, r, v);
        } else {
            next = new Overlay(null, null, merged.copyInto(Arena.ofAuto(), Device.CPU));
        }
        if (overlay != null && !sameKind(overlay, next)) {
            next = new Overlay(null, null, merged.copyInto(Arena.ofAuto(), Device.CPU)); // mixed merges: dense
        }
        undo.push(new Undo(null, overlay));
        overlay = next;
        lastMerge = new MergeReport(
                mode,
                0,
                weight.blocks(),
                0,
                next.cols() == null ? 0 : next.cols().length,
                next.rows() == null ? 0 : next.rows().length,
                next.cols() == null && next.rows() == null);
    }

    private static boolean sameKind(Overlay a, Overlay b) {
        return Arrays.equals(a.cols(), b.cols()) && Arrays.equals(a.rows(), b.rows());
    }

    /** Puts the weight back exactly as it was before the last merge (bytes for REQUANTIZE, overlay for OVERLAY). */
    @Override
    public void unmergeDelta(Consumer<Tensor> subtractDelta) {
        Undo u = undo.poll();
        if (u == null) {
            throw new IllegalStateException("layer '" + name + "': unmerge without a merge");
        }
        if (u.snapshot() != null) {
            weight.restore(u.snapshot());
        }
        overlay = u.previousOverlay();
    }

    /** No trainable or f32 weight tensors: the model reports this layer's bytes through {@link #nf4()}. */
    @Override
    public Map<String, Tensor> namedTensors() {
        return Map.of();
    }

    @Override
    public void train(boolean training) {
        // nothing of its own
    }
}
