package io.sbora4j.quant;

import java.util.Arrays;

/**
 * The signed 8-bit dynamic quantisation map bitsandbytes uses for double quantisation of NF4 scales
 * ({@code create_dynamic_map(signed=True)}): for each exponent e in 0..6, the midpoints of 2^e + 1 evenly spaced
 * points on [0.1, 1], times 10^(e-6), with both signs, plus 0 and 1. A value is encoded as the index of the nearest
 * map entry after division by its block's absolute maximum.
 */
public final class DynamicMap8 {

    private static final float[] MAP = build();

    private DynamicMap8() {}

    private static float[] build() {
        float[] data = new float[256];
        int k = 0;
        for (int e = 0; e < 7; e++) {
            int items = (1 << e) + 1;
            double scale = Math.pow(10, e - 6);
            for (int j = 0; j + 1 < items; j++) {
                double a = 0.1 + 0.9 * j / (items - 1), b = 0.1 + 0.9 * (j + 1) / (items - 1);
                float mean = (float) (scale * (a + b) / 2);
                data[k++] = mean;
                data[k++] = -mean;
            }
        }
        data[k++] = 0f;
        data[k++] = 1f;
        assert k == 256;
        Arrays.sort(data);
        return data;
    }

    /** The value of code {@code q}. */
    public static float value(int q) {
        return MAP[q];
    }

    /** The code of the map value nearest to {@code v} (v in [-1, 1]). */
    public static int nearest(float v) {
        int i = Arrays.binarySearch(MAP, v);
        if (i >= 0) {
            return i;
        }
        int hi = -i - 1, lo = hi - 1;
        if (hi >= MAP.length) {
            return MAP.length - 1;
        }
        if (lo < 0) {
            return 0;
        }
        return v - MAP[lo] <= MAP[hi] - v ? lo : hi;
    }

    /** The largest distance from a value in [-1, 1] to its nearest map entry: the encoding's error bound. */
    public static float maxHalfGap() {
        float g = 0;
        for (int i = 0; i + 1 < MAP.length; i++) {
            g = Math.max(g, (MAP[i + 1] - MAP[i]) / 2);
        }
        return g;
    }
}
