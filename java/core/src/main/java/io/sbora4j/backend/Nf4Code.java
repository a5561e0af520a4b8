package io.sbora4j.backend;

/**
 * QLoRA's 4-bit NormalFloat values (bitsandbytes' NF4 code): the quantiles of N(0, 1) rescaled to [-1, 1], with an
 * exact zero. Part of the kernel contract: every backend encodes and decodes with this table.
 */
public final class Nf4Code {

    private Nf4Code() {}

    private static final float[] CODE = {
        -1.0f,
        -0.6961928009986877f,
        -0.5250730514526367f,
        -0.39491748809814453f,
        -0.28444138169288635f,
        -0.18477343022823334f,
        -0.09105003625154495f,
        0.0f,
        0.07958029955625534f,
        0.16093020141124725f,
        0.24611230194568634f,
        0.33791524171829224f,
        0.44070982933044434f,
        0.5626170039176941f,
        0.7229568362236023f,
        1.0f
    };

    /** The value of 4-bit code {@code q}. */
    public static float value(int q) {
        return CODE[q];
    }

    /** The 16 values, ascending. */
    public static float[] values() {
        return CODE.clone();
    }

    /** The code of the value nearest to {@code v} (v in [-1, 1]): the number of midpoints below it. */
    public static int nearest(float v) {
        int q = 0;
        for (int k = 0; k < 15; k++) {
            q += v > 0.5f * (CODE[k] + CODE[k + 1]) ? 1 : 0;
        }
        return q;
    }
}
