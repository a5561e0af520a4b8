package io.sbora4j.testing;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Seeded random test data. */
public final class Rand {

    private Rand() {}

    public static float[] floats(SplittableRandom rng, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
        }
        return v;
    }

    /** A tensor of uniform values in (-1, 1). */
    public static Tensor tensor(SplittableRandom rng, Device device, int... dims) {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        return Tensor.of(device, floats(rng, (int) n, 1), dims);
    }

    /** r distinct indices of [0, dim), in random order. */
    public static int[] distinct(SplittableRandom rng, int dim, int r) {
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
        return Arrays.copyOf(pool, r);
    }
}
