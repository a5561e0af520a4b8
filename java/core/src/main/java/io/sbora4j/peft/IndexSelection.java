package io.sbora4j.peft;

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
