package io.sbora4j.autograd;

import io.sbora4j.ops.Elementwise;
import io.sbora4j.ops.Indexing;
import io.sbora4j.ops.Losses;
import io.sbora4j.ops.MatMul;
import io.sbora4j.ops.Reductions;
import io.sbora4j.ops.Shapes;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.GradCheck;
import io.sbora4j.testing.Rand;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every differentiable op's backward agrees with finite differences, on both host backends. */
class OpGradientTest {

    private static final double H = 1e-2;
    private static final double TOL = 2e-3;

    private static Tensor leaf(SplittableRandom rng, Device d, int... dims) {
        return Rand.tensor(rng, d, dims).requiresGrad(true);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void matmulWithEveryTransposeCombination(Device d) {
        SplittableRandom rng = new SplittableRandom(1);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                Tensor a = ta ? leaf(rng, d, 5, 3) : leaf(rng, d, 3, 5);
                Tensor b = tb ? leaf(rng, d, 7, 5) : leaf(rng, d, 5, 7);
                GradCheck.check(
                        "matmul ta=" + ta + " tb=" + tb, () -> MatMul.matmul(a, ta, b, tb), List.of(a, b), H, TOL, 64);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void elementwiseOps(Device d) {
        SplittableRandom rng = new SplittableRandom(2);
        Tensor a = leaf(rng, d, 4, 9), b = leaf(rng, d, 4, 9);
        GradCheck.check("add", () -> Elementwise.add(a, b), List.of(a, b), H, TOL, 64);
        GradCheck.check("sub", () -> Elementwise.sub(a, b), List.of(a, b), H, TOL, 64);
        GradCheck.check("mul", () -> Elementwise.mul(a, b), List.of(a, b), H, TOL, 64);
        GradCheck.check("scale", () -> Elementwise.scale(a, -1.75f), List.of(a), H, TOL, 64);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void reductionsAndLoss(Device d) {
        SplittableRandom rng = new SplittableRandom(3);
        Tensor a = leaf(rng, d, 6, 5);
        Tensor t = Rand.tensor(rng, d, 6, 5);
        GradCheck.check("sum", () -> Reductions.sum(a), List.of(a), H, TOL, 64);
        GradCheck.check("mean", () -> Reductions.mean(a), List.of(a), H, TOL, 64);
        GradCheck.check("mse", () -> Losses.mse(a, t), List.of(a), H, TOL, 64);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void indexSelectAndIndexAddAlongBothDims(Device d) {
        SplittableRandom rng = new SplittableRandom(4);
        Tensor x = leaf(rng, d, 6, 11);
        Tensor cols = Tensor.ofInts(d, new int[] {9, 0, 4}, 3);
        Tensor rows = Tensor.ofInts(d, new int[] {5, 2}, 2);
        GradCheck.check("indexSelect cols", () -> Indexing.indexSelect(x, 1, cols), List.of(x), H, TOL, 66);
        GradCheck.check("indexSelect rows", () -> Indexing.indexSelect(x, 0, rows), List.of(x), H, TOL, 66);
        Tensor srcCols = leaf(rng, d, 6, 3), srcRows = leaf(rng, d, 2, 11);
        GradCheck.check(
                "indexAdd cols", () -> Indexing.indexAdd(x, 1, cols, srcCols, 0.5f), List.of(x, srcCols), H, TOL, 66);
        GradCheck.check(
                "indexAdd rows", () -> Indexing.indexAdd(x, 0, rows, srcRows, -2f), List.of(x, srcRows), H, TOL, 66);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void reshapeAndTranspose(Device d) {
        SplittableRandom rng = new SplittableRandom(5);
        Tensor x = leaf(rng, d, 4, 6);
        Tensor w = Rand.tensor(rng, d, 3, 8);
        // reshape alone is the identity on values; compose with a matmul so the gradient has structure
        GradCheck.check("reshape", () -> MatMul.matmul(w, Shapes.reshape(x, 8, 3)), List.of(x), H, TOL, 64);
        GradCheck.check("transpose", () -> Shapes.transpose(x), List.of(x), H, TOL, 64);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void gradientsOfASharedInputAccumulate(Device d) {
        SplittableRandom rng = new SplittableRandom(6);
        Tensor a = leaf(rng, d, 3, 3);
        GradCheck.check("a·a + a", () -> Elementwise.add(MatMul.matmul(a, a), a), List.of(a), H, TOL, 64);
    }
}
