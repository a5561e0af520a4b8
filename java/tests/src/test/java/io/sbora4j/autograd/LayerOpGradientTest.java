package io.sbora4j.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sbora4j.backend.AttentionShape;
import io.sbora4j.ops.Activations;
import io.sbora4j.ops.Attention;
import io.sbora4j.ops.Elementwise;
import io.sbora4j.ops.Embeddings;
import io.sbora4j.ops.Losses;
import io.sbora4j.ops.Norms;
import io.sbora4j.ops.Rope;
import io.sbora4j.ops.RopeTables;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.GradCheck;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Finite-difference checks of the transformer-layer ops, on both host backends. */
class LayerOpGradientTest {

    private static Tensor leaf(SplittableRandom rng, Device d, int... dims) {
        return Rand.tensor(rng, d, dims).requiresGrad(true);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void rmsNorm(Device d) {
        SplittableRandom rng = new SplittableRandom(1);
        Tensor x = leaf(rng, d, 5, 7), w = leaf(rng, d, 7);
        GradCheck.check("rmsNorm", () -> Norms.rmsNorm(x, w, 1e-5f), List.of(x, w), 1e-2, 3e-3, 64);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void rope(Device d) {
        SplittableRandom rng = new SplittableRandom(2);
        RopeTables tables = new RopeTables(Arena.ofAuto(), d, 6, 16, 10000);
        Tensor x = leaf(rng, d, 4, 2 * 6);
        Tensor pos = Tensor.ofInts(d, new int[] {0, 3, 15, 7}, 4);
        GradCheck.check("rope", () -> Rope.apply(x, 2, pos, tables), List.of(x), 1e-2, 2e-3, 64);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void siluMul(Device d) {
        SplittableRandom rng = new SplittableRandom(3);
        Tensor g = leaf(rng, d, 3, 11), u = leaf(rng, d, 3, 11);
        GradCheck.check("siluMul", () -> Activations.siluMul(g, u), List.of(g, u), 1e-2, 3e-3, 64);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void groupedQueryCausalAttention(Device d) {
        SplittableRandom rng = new SplittableRandom(4);
        AttentionShape s = new AttentionShape(2, 5, 4, 2, 3, (float) (1 / Math.sqrt(3)));
        Tensor q = leaf(rng, d, 10, 12), k = leaf(rng, d, 10, 6), v = leaf(rng, d, 10, 6);
        GradCheck.check("attention", () -> Attention.causal(q, k, v, s), List.of(q, k, v), 1e-2, 3e-3, 120);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void embeddingWithRepeatedIds(Device d) {
        SplittableRandom rng = new SplittableRandom(5);
        Tensor w = leaf(rng, d, 6, 4);
        Tensor ids = Tensor.ofInts(d, new int[] {2, 5, 2, 0, 2}, 5);
        GradCheck.check("embedding", () -> Embeddings.lookup(w, ids), List.of(w), 1e-2, 2e-3, 64);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void crossEntropyIgnoringSomeRows(Device d) {
        SplittableRandom rng = new SplittableRandom(6);
        Tensor logits = leaf(rng, d, 5, 9);
        Tensor targets = Tensor.ofInts(d, new int[] {3, -100, 8, 0, -100}, 5);
        GradCheck.check(
                "crossEntropy", () -> Losses.crossEntropy(logits, targets, -100), List.of(logits), 1e-2, 3e-3, 64);
    }

    /**
     * Both results of the fused residual add and norm reach the loss, as in a block: the gradient of x (and of
     * delta) is the residual's plus the norm's, computed in one backward.
     */
    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void addRmsNormWithBothResultsUsed(Device d) {
        SplittableRandom rng = new SplittableRandom(8);
        Tensor x = leaf(rng, d, 5, 7), delta = leaf(rng, d, 5, 7), w = leaf(rng, d, 7);
        GradCheck.check(
                "addRmsNorm",
                () -> {
                    Norms.Residual r = Norms.addRmsNorm(x, delta, w, 1e-5f);
                    return Elementwise.add(Elementwise.scale(r.sum(), 0.37f), r.normed());
                },
                List.of(x, delta, w),
                1e-2,
                3e-3,
                64);
    }

    /** Only the norm reaches the loss (the last block before the final norm): no residual gradient. */
    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void addRmsNormWithOnlyTheNormUsed(Device d) {
        SplittableRandom rng = new SplittableRandom(9);
        Tensor x = leaf(rng, d, 1, 13), delta = leaf(rng, d, 1, 13), w = leaf(rng, d, 13);
        GradCheck.check(
                "addRmsNorm normed",
                () -> Norms.addRmsNorm(x, delta, w, 1e-5f).normed(),
                List.of(x, delta, w),
                1e-2,
                3e-3,
                64);
    }

    /** Only the sum reaches the loss: the add's backward, and no gradient for w. */
    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void addRmsNormWithOnlyTheSumUsed(Device d) {
        SplittableRandom rng = new SplittableRandom(10);
        Tensor x = leaf(rng, d, 3, 5), delta = leaf(rng, d, 3, 5), w = leaf(rng, d, 5);
        GradCheck.check(
                "addRmsNorm sum", () -> Norms.addRmsNorm(x, delta, w, 1e-5f).sum(), List.of(x, delta), 1e-2, 3e-3, 64);
        assertNull(w.grad(), "w got a gradient though the norm was not used");
    }

    /** Rope over a fresh tensor's memory (a copy of the leaf, as a projection's output would be). */
    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void ropeInPlace(Device d) {
        SplittableRandom rng = new SplittableRandom(11);
        RopeTables tables = new RopeTables(Arena.ofAuto(), d, 6, 16, 10000);
        Tensor x = leaf(rng, d, 4, 3 * 6);
        Tensor pos = Tensor.ofInts(d, new int[] {0, 3, 15, 7}, 4);
        GradCheck.check(
                "rope in place",
                () -> Rope.applyInPlace(Elementwise.scale(x, 1f), 3, pos, tables),
                List.of(x),
                1e-2,
                2e-3,
                64);
        Tensor fresh = Elementwise.scale(x, 1f);
        assertArrayEquals(
                Rope.apply(x, 3, pos, tables).toFloatArray(),
                Rope.applyInPlace(fresh, 3, pos, tables).toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> Rope.applyInPlace(x, 3, pos, tables));
    }

    /**
     * The chunked head-and-loss op, h and the head both trained (pre-training), with ignored rows and chunks that
     * do and do not divide the counted rows.
     */
    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void linearCrossEntropyInChunks(Device d) {
        SplittableRandom rng = new SplittableRandom(12);
        Tensor h = leaf(rng, d, 7, 5), head = leaf(rng, d, 11, 5);
        Tensor targets = Tensor.ofInts(d, new int[] {3, -100, 10, 0, -100, 7, 7}, 7);
        Tensor all = Tensor.ofInts(d, new int[] {3, 1, 10, 0, 4, 7, 7}, 7);
        for (int chunk : new int[] {1, 2, 3, 5, 7, 100}) {
            for (Tensor t : new Tensor[] {targets, all}) {
                GradCheck.check(
                        "linearCrossEntropy chunk " + chunk,
                        () -> Losses.linearCrossEntropy(h, head, t, -100, chunk),
                        List.of(h, head),
                        1e-2,
                        3e-3,
                        64);
            }
        }
    }
}
