package io.sbora4j.peft;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * The r standard-basis vectors of an SBoRA layer, as a sorted list of distinct indices into a dimension: drawn
 * without replacement from the layer's seeded stream, or given explicitly and checked.
 */
public final class IndexSelection {

    private IndexSelection() {}

    /**
     * r distinct indices of [0, dim), uniformly drawn (partial Fisher-Yates) from {@code Seeds.forLayer(seed, path,
     * "indices")}, sorted ascending so that gathers walk memory forward.
     */
    public static int[] draw(long seed, String path, int dim, int r) {
        checkRank(path, dim, r);
        SplittableRandom rng = Seeds.forLayer(seed, path, "indices");
        int[] pool = new int[dim];
        for (int i = 0; i < dim; i++) {
            pool[i] = i;
        }
        for (int i = 0; i < r; i++) {
            int j = i + rng.nextInt(dim - i);
            int t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
        }
        int[] idx = Arrays.copyOf(pool, r);
        Arrays.sort(idx);
        return idx;
    }

    /** Checks explicit indices: exactly r of them, distinct, in [0, dim). Kept in the given order. */
    public static int[] explicit(String path, int[] idx, int dim, int r) {
        checkRank(path, dim, r);
        if (idx.length != r) {
            throw new IllegalArgumentException("layer '" + path + "': " + idx.length + " indices given for r=" + r);
        }
        BitSet seen = new BitSet(dim);
        for (int v : idx) {
            if (v < 0 || v >= dim) {
                throw new IllegalArgumentException(
                        "layer '" + path + "': index " + v + " out of range [0, " + dim + ")");
            }
            if (seen.get(v)) {
                throw new IllegalArgumentException("layer '" + path + "': duplicate index " + v);
            }
            seen.set(v);
        }
        return idx.clone();
    }

    /**
     * The most values a one-hot factor of an exported SBoRA layer may hold: 2^28 (1 GiB of f32). A real one is far
     * smaller (r = 256 on a 53,248-wide layer: 13.6 M); a larger one comes from a corrupt dimension in a file.
     */
    public static final long MAX_ONE_HOT_VALUES = 1L << 28;

    /**
     * A rows x cols f32 tensor of zeros in {@code arena}, for the one-hot factor {@code name} of the layer at
     * {@code path}, refused by name when it would exceed {@link #MAX_ONE_HOT_VALUES}.
     */
    public static Tensor oneHot(String path, String name, Arena arena, int rows, int cols) {
        long values = (long) rows * cols;
        if (values > MAX_ONE_HOT_VALUES) {
            throw new IllegalArgumentException("layer '" + path + "': a one-hot " + name + " of " + rows + " x " + cols
                    + " = " + values + " values is larger than any real adapter's (at most " + MAX_ONE_HOT_VALUES
                    + "); is a layer dimension in the file corrupt?");
        }
        return Tensor.zeros(arena, Device.CPU, rows, cols);
    }

    private static void checkRank(String path, int dim, int r) {
        if (r < 1) {
            throw new IllegalArgumentException("layer '" + path + "': r must be >= 1, got " + r);
        }
        if (r > dim) {
            throw new IllegalArgumentException(
                    "layer '" + path + "': r=" + r + " exceeds the dimension " + dim + " it selects from");
        }
    }
}
