package io.sbora4j.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.ops.Activations;
import io.sbora4j.ops.Checkpoint;
import io.sbora4j.ops.Losses;
import io.sbora4j.ops.MatMul;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A checkpointed function gives the gradients of the plain one, and keeps less memory through the step. */
class CheckpointTest {

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void gradientsEqualThePlainFunctionsAndLessIsKept(Device d) {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom rng = new SplittableRandom(3);
            Tensor w1 = param(arena, d, rng, 48, 32),
                    w2 = param(arena, d, rng, 48, 32),
                    w3 = param(arena, d, rng, 32, 48);
            UnaryOperator<Tensor> mlp = x -> MatMul.matmul(
                    Activations.siluMul(MatMul.matmul(x, false, w1, true), MatMul.matmul(x, false, w2, true)),
                    false,
                    w3,
                    true);
            Tensor x0 = Rand.tensor(rng, d, 20, 32).copyInto(arena, d);
            Tensor target = Rand.tensor(rng, d, 20, 32).copyInto(arena, d);
            float[][] plain = run(d, x0, target, List.of(w1, w2, w3), x -> mlp.apply(mlp.apply(x)));
            float[][] ckpt = run(
                    d,
                    x0,
                    target,
                    List.of(w1, w2, w3),
                    x -> Checkpoint.apply(
                            "block", Checkpoint.apply("block", x, List.of(w1, w2, w3), mlp), List.of(w1, w2, w3), mlp));
            for (int i = 0; i < plain.length - 1; i++) {
                assertArrayEquals(plain[i], ckpt[i], 1e-6f, "gradient " + i);
            }
            assertTrue(
                    ckpt[plain.length - 1][0] < plain[plain.length - 1][0],
                    "bytes allocated: " + ckpt[plain.length - 1][0] + " vs " + plain[plain.length - 1][0]);
        }
    }

    /** The gradients of x and of each parameter, and last the bytes the step's scope allocated. */
    private static float[][] run(Device d, Tensor x0, Tensor target, List<Tensor> params, UnaryOperator<Tensor> f) {
        params.forEach(p -> p.setGrad(null));
        float[][] out = new float[params.size() + 2][];
        try (MemoryScope step = MemoryScope.open()) {
            Tensor x = x0.detach().requiresGrad(true);
            Autograd.backward(Losses.mse(f.apply(x), target));
            out[0] = x.grad().toFloatArray();
            for (int i = 0; i < params.size(); i++) {
                out[i + 1] = params.get(i).grad().toFloatArray();
            }
            out[params.size() + 1] = new float[] {step.bytesAllocated()};
        }
        return out;
    }

    private static Tensor param(Arena arena, Device d, SplittableRandom rng, int rows, int cols) {
        return Rand.tensor(rng, d, rows, cols).copyInto(arena, d).requiresGrad(true);
    }
}
