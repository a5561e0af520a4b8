package io.sbora4j.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.nn.Linear;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Methods;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The regional property of SBoRA (paper §3.2): merging SBoRA-FA changes exactly the r columns idx of W and leaves
 * every other element bit-identical; SBoRA-FB likewise for rows. Unmerge restores W within one rounding.
 */
class RegionalMergeProperties {

    private static AdaptedLinear trained(AdapterMethod m, Device d, int out, int in, int r, long seed) {
        return trained(m, d, out, in, r, 16, seed);
    }

    /**
     * A layer whose base weight and trained adapter tensors all hold values with 0.1 <= |v| <= 1, so every merged
     * element really changes and every row of W has norm at least 0.1·sqrt(in).
     */
    private static AdaptedLinear trained(AdapterMethod m, Device d, int out, int in, int r, float alpha, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor w = Tensor.of(Arena.ofAuto(), d, awayFromZero(Rand.floats(rng, out * in, 1)), out, in);
        AdaptedLinear layer = AdaptedLinear.attach(
                new Linear("layers.3.mlp.up_proj", w),
                AdapterConfig.of(m, r, alpha).withSeed(seed),
                Arena.ofAuto());
        for (Tensor t : layer.trainable()) {
            t.copyFrom(awayFromZero(Rand.floats(rng, (int) t.numel(), 1)));
        }
        return layer;
    }

    private static float[] awayFromZero(float[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.copySign(0.1f + 0.9f * Math.abs(v[i]), v[i]);
        }
        return v;
    }

    @Property(tries = 80)
    void sboraFaMergeChangesExactlyColumnsIdx(
            @ForAll @IntRange(min = 1, max = 90) int out,
            @ForAll @IntRange(min = 1, max = 90) int in,
            @ForAll @IntRange(min = 1, max = 90) int rWanted,
            @ForAll boolean onReference,
            @ForAll long seed) {
        int r = Math.min(rWanted, in);
        AdaptedLinear layer =
                trained(AdapterMethods.SBORA_FA, onReference ? Device.REFERENCE : Device.CPU, out, in, r, seed);
        float[] before = layer.base().denseWeight().toFloatArray();
        layer.merge();
        float[] after = layer.base().denseWeight().toFloatArray();
        boolean[] inIdx = new boolean[in];
        for (int j : ((SboraFaAdapter) layer.adapter()).indices()) {
            inIdx[j] = true;
        }
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                int k = i * in + j;
                boolean same = Float.floatToRawIntBits(before[k]) == Float.floatToRawIntBits(after[k]);
                if (inIdx[j]) {
                    assertTrue(!same, "column " + j + " in idx did not change");
                } else {
                    assertTrue(same, "element [" + i + "," + j + "] outside idx changed");
                }
            }
        }
        assertUnmergeRestores(layer, before, after);
    }

    @Property(tries = 80)
    void sboraFbMergeChangesExactlyRowsIdx(
            @ForAll @IntRange(min = 1, max = 90) int out,
            @ForAll @IntRange(min = 1, max = 90) int in,
            @ForAll @IntRange(min = 1, max = 90) int rWanted,
            @ForAll boolean onReference,
            @ForAll long seed) {
        int r = Math.min(rWanted, out);
        AdaptedLinear layer =
                trained(AdapterMethods.SBORA_FB, onReference ? Device.REFERENCE : Device.CPU, out, in, r, seed);
        float[] before = layer.base().denseWeight().toFloatArray();
        layer.merge();
        float[] after = layer.base().denseWeight().toFloatArray();
        boolean[] inIdx = new boolean[out];
        for (int i : ((SboraFbAdapter) layer.adapter()).indices()) {
            inIdx[i] = true;
        }
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                int k = i * in + j;
                boolean same = Float.floatToRawIntBits(before[k]) == Float.floatToRawIntBits(after[k]);
                assertTrue(inIdx[i] || same, "element [" + i + "," + j + "] outside idx changed");
            }
        }
        assertUnmergeRestores(layer, before, after);
    }

    private static void assertUnmergeRestores(AdaptedLinear layer, float[] before, float[] merged) {
        layer.unmerge();
        float[] restored = layer.base().denseWeight().toFloatArray();
        for (int k = 0; k < before.length; k++) {
            double oneRounding = Math.ulp(Math.max(Math.abs(before[k]), Math.abs(merged[k])));
            assertTrue(
                    Math.abs(restored[k] - before[k]) <= oneRounding,
                    "element " + k + ": " + before[k] + " -> " + merged[k] + " -> " + restored[k]);
        }
    }

    @Property(tries = 30)
    void everyMethodsMergedForwardEqualsAdapterForward(
            @ForAll("methods") AdapterMethod m,
            @ForAll @IntRange(min = 1, max = 40) int out,
            @ForAll @IntRange(min = 1, max = 40) int in,
            @ForAll @IntRange(min = 1, max = 40) int rWanted,
            @ForAll @IntRange(min = 1, max = 9) int tokens,
            @ForAll long seed) {
        int r = Math.min(rWanted, m.maxRank(out, in));
        // alpha 0.05 keeps every row of s·B·A under half the norm of the row of W it is added to. With a larger
        // update a row of W + s·B·A can nearly cancel, and DoRA's 1/‖W + s·B·A‖ then magnifies the rounding of
        // the unmerged forward beyond any fixed tolerance (the two forwards round differently, neither is wrong).
        AdaptedLinear layer = trained(m, Device.CPU, out, in, r, 0.05f, seed);
        Tensor x = Rand.tensor(new SplittableRandom(seed + 1), Device.CPU, tokens, in);
        layer.train(false);
        float[] adapted = layer.forward(x).toFloatArray();
        layer.merge();
        float[] merged = layer.forward(x).toFloatArray();
        for (int i = 0; i < adapted.length; i++) {
            assertEquals(adapted[i], merged[i], 1e-4 * Math.max(1, Math.abs(adapted[i])), m + " element " + i);
        }
        layer.unmerge();
        float[] back = layer.forward(x).toFloatArray();
        for (int i = 0; i < adapted.length; i++) {
            assertEquals(adapted[i], back[i], 1e-4 * Math.max(1, Math.abs(adapted[i])), m + " after unmerge " + i);
        }
    }

    @Property(tries = 10)
    void loraMergeTouchesTheWholeWeight(@ForAll long seed) {
        AdaptedLinear layer = trained(AdapterMethods.LORA, Device.CPU, 16, 12, 2, seed);
        float[] before = layer.base().denseWeight().toFloatArray();
        layer.merge();
        float[] after = layer.base().denseWeight().toFloatArray();
        long changed = 0;
        for (int k = 0; k < before.length; k++) {
            changed += before[k] != after[k] ? 1 : 0;
        }
        assertTrue(changed > before.length * 0.9, Arrays.toString(after));
    }

    @Provide
    Arbitrary<AdapterMethod> methods() {
        return Arbitraries.of(Methods.all().toList());
    }
}
