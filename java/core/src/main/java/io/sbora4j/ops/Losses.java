package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** Loss functions, each one fused op. */
public final class Losses {

    private Losses() {}

    /** Mean squared error {@code mean((pred - target)²)}; the target gets no gradient. */
    public static Tensor mse(Tensor pred, Tensor target) {
        Checks.f32SameDevice("mse", pred, target);
        Checks.sameShape("mse", pred, target);
        if (pred.numel() == 0) {
            throw new IllegalArgumentException("mse: empty tensors");
        }
        Backend be = Backends.of(pred.device());
        Tensor diff = pred.emptyLike();
        be.sub(pred, target, diff);
        long n = pred.numel();
        Tensor out = Tensor.empty(pred.device(), pred.dtype());
        be.fill(out, (float) (be.dot(diff, diff) / n));
        return Autograd.record(out, "mse", List.of(pred), List.of(diff), g -> {
            Tensor gp = diff.emptyLike();
            be.scale(diff, (float) (2.0 * g.item() / n), gp);
            return new Tensor[] {gp};
        });
    }

    /**
     * Mean softmax cross-entropy of logits (rows x vocab) against i32 targets (one per row), over the rows whose
     * target is not {@code ignoreIndex} (HF uses -100 for prompt and padding tokens). With no counted row the loss
     * is 0 and so is its gradient.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor targets, int ignoreIndex) {
        Checks.f32SameDevice("crossEntropy", logits);
        Checks.matrix("crossEntropy", logits);
        if (targets.dtype() != DType.I32 || targets.numel() != logits.dim(0) || targets.device() != logits.device()) {
            throw new IllegalArgumentException(
                    "crossEntropy: need one i32 target per row of " + logits.shape() + ", got " + targets.describe());
        }
        int vocab = logits.dim(1);
        int counted = 0;
        for (int t : targets.toIntArray()) {
            if (t != ignoreIndex) {
                if (t < 0 || t >= vocab) {
                    throw new IllegalArgumentException("crossEntropy: target " + t + " outside [0, " + vocab + ")");
                }
                counted++;
            }
        }
        Backend be = Backends.of(logits.device());
        int rows = logits.dim(0);
        Tensor perRow = Tensor.empty(logits.device(), DType.F32, rows);
        Tensor lse = Tensor.empty(logits.device(), DType.F32, rows);
        be.crossEntropyForward(logits, targets, ignoreIndex, perRow, lse);
        int n = counted;
        Tensor out = Tensor.empty(logits.device(), DType.F32);
        be.fill(out, n == 0 ? 0f : (float) (be.sum(perRow) / n));
        return Autograd.record(out, "crossEntropy", List.of(logits), List.of(logits, lse), g -> {
            Tensor dl = logits.emptyLike();
            be.crossEntropyBackward(logits, targets, lse, ignoreIndex, n == 0 ? 0f : (float) (g.item() / n), dl);
            return new Tensor[] {dl};
        });
    }
}
