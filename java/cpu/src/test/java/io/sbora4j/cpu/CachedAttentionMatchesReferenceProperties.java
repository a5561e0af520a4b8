package io.sbora4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.backend.AttentionShape;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Rand;
import java.util.SplittableRandom;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The cpu backend's cached attention against the reference, over random and awkward shapes. */
class CachedAttentionMatchesReferenceProperties {

    private static final Backend CPU = Backends.of(Device.CPU);
    private static final Backend REF = Backends.of(Device.REFERENCE);

    @Property(tries = 40)
    void cachedAttention(
            @ForAll @IntRange(min = 1, max = 3) int batch,
            @ForAll @IntRange(min = 1, max = 5) int newTokens,
            @ForAll @IntRange(min = 0, max = 150) int extra,
            @ForAll @IntRange(min = 1, max = 2) int kvHeads,
            @ForAll @IntRange(min = 1, max = 4) int group,
            @ForAll @IntRange(min = 1, max = 40) int headDim,
            @ForAll @IntRange(min = 0, max = 20) int window,
            @ForAll long seed) {
        matches(batch, newTokens, newTokens + extra, kvHeads, group, headDim, window, seed);
    }

    /**
     * One token (decoding) and a chunked prefill, caches of one row and of more than a block of keys, head widths
     * around the vector widths and the transposed slice's 64 columns, group sizes 1, 4 and 12, a window shorter than
     * the cache.
     */
    @Example
    void awkwardShapes() {
        int[][] shapes = {
            // batch, newTokens, maxLen, kvHeads, group, headDim, window
            {1, 1, 1, 1, 1, 1, 0},
            {1, 1, 1, 1, 4, 8, 0},
            {2, 1, 65, 2, 4, 16, 0},
            {3, 7, 200, 1, 1, 17, 0},
            {2, 64, 64, 2, 1, 64, 0},
            {1, 3, 300, 2, 4, 128, 0},
            {1, 1, 129, 1, 4, 130, 0},
            {2, 5, 100, 1, 2, 33, 7},
            {1, 1, 90, 2, 4, 15, 1},
            {2, 2, 50, 1, 12, 20, 0}, // a group of more heads than a task takes at once
        };
        for (int[] s : shapes) {
            matches(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[0] * 1000L + s[2]);
        }
    }

    /** The lengths held before the new tokens differ between sequences: each at its own positions. */
    private static void matches(
            int batch, int newTokens, int maxLen, int kvHeads, int group, int headDim, int window, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int heads = kvHeads * group;
        Tensor q = Rand.tensor(rng, Device.CPU, batch * newTokens, heads * headDim);
        Tensor k = Rand.tensor(rng, Device.CPU, batch * maxLen, kvHeads * headDim);
        Tensor v = Rand.tensor(rng, Device.CPU, batch * maxLen, kvHeads * headDim);
        int[] past = new int[batch];
        for (int b = 0; b < batch; b++) {
            past[b] = b == 0 ? maxLen - newTokens : rng.nextInt(maxLen - newTokens + 1);
        }
        AttentionShape shape =
                new AttentionShape(batch, newTokens, heads, kvHeads, headDim, (float) (1 / Math.sqrt(headDim)));
        Tensor out = q.emptyLike();
        Tensor outR = Tensor.zeros(Device.REFERENCE, batch * newTokens, heads * headDim);
        CPU.cachedAttention(q, k, v, Tensor.ofInts(Device.CPU, past, batch), shape, window, out);
        REF.cachedAttention(
                q.to(Device.REFERENCE),
                k.to(Device.REFERENCE),
                v.to(Device.REFERENCE),
                Tensor.ofInts(Device.REFERENCE, past, batch),
                shape,
                window,
                outR);
        float[] a = outR.toFloatArray(), c = out.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            assertTrue(
                    Math.abs(a[i] - c[i]) <= 1e-5 * Math.max(1, Math.abs(a[i])),
                    "cached attention at " + i + ": " + a[i] + " vs " + c[i]);
        }
    }

    @Example
    void aLengthWithoutRoomForTheNewTokensIsRefused() {
        AttentionShape shape = new AttentionShape(1, 2, 2, 1, 4, 0.5f);
        Tensor q = Tensor.zeros(Device.CPU, 2, 8), k = Tensor.zeros(Device.CPU, 5, 4);
        IndexOutOfBoundsException e = assertThrows(
                IndexOutOfBoundsException.class,
                () -> CPU.cachedAttention(
                        q, k, k, Tensor.ofInts(Device.CPU, new int[] {4}, 1), shape, 0, q.emptyLike()));
        assertTrue(e.getMessage().contains("past[0] = 4"), e.getMessage());
        assertEquals(
                "cachedAttention: window must be >= 0, got -1",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> CPU.cachedAttention(
                                        q, k, k, Tensor.ofInts(Device.CPU, new int[] {0}, 1), shape, -1, q.emptyLike()))
                        .getMessage());
    }
}
