package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
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

    /**
     * Mean softmax cross-entropy of the logits {@code h·headᵀ} (h: rows x hidden, head: vocab x hidden, both f32)
     * against i32 targets (one per row), over the rows whose target is not {@code ignoreIndex}: the value and
     * gradients of {@link #crossEntropy}{@code (MatMul.matmul(h, false, head, true), ...)} without ever holding more
     * than {@code chunkRows} rows of logits.
     *
     * <p>The logits of {@code chunkRows} counted rows at a time (ignored rows cost nothing) live in a
     * {@link MemoryScope} of their own, freed before the next chunk. Where a gradient will be wanted (the graph is
     * recorded and h or the head requires one) each chunk's logits are turned in place into
     * {@code dlogits = (softmax - onehot) / counted} in the same pass that computes the loss
     * ({@link Backend#crossEntropyForwardBackward}), and {@code dh = dlogits·head} (and {@code dhead +=
     * dlogitsᵀ·h} when the head is trained, in pre-training) are accumulated at once: the loss is a scalar, so the
     * backward only scales them by the gradient it receives. That costs the head GEMM twice, as the unchunked loss
     * does, where recomputing the logits in the backward would cost it three times; what the backward keeps is dh
     * (the size of h, which a recomputation would keep instead) and dhead, no logits. Without a graph the forward
     * computes the loss alone.
     */
    public static Tensor linearCrossEntropy(Tensor h, Tensor head, Tensor targets, int ignoreIndex, int chunkRows) {
        String op = "linearCrossEntropy";
        Checks.f32SameDevice(op, h, head);
        Checks.matrix(op, h);
        Checks.matrix(op, head);
        if (head.dim(1) != h.dim(1)) {
            throw new IllegalArgumentException(op + ": head " + head.shape() + " does not match rows of " + h.shape());
        }
        int rows = h.dim(0), vocab = head.dim(0), hidden = h.dim(1);
        if (targets.dtype() != DType.I32 || targets.numel() != rows || targets.device() != h.device()) {
            throw new IllegalArgumentException(
                    op + ": need one i32 target per row of " + h.shape() + ", got " + targets.describe());
        }
        if (chunkRows < 1) {
            throw new IllegalArgumentException(op + ": chunks of " + chunkRows + " rows");
        }
        int[] t = targets.toIntArray();
        int[] countedRows = new int[rows];
        int counted = 0;
        for (int i = 0; i < rows; i++) {
            if (t[i] != ignoreIndex) {
                if (t[i] < 0 || t[i] >= vocab) {
                    throw new IllegalArgumentException(op + ": target " + t[i] + " outside [0, " + vocab + ")");
                }
                countedRows[counted++] = i;
            }
        }
        Backend be = Backends.of(h.device());
        int n = counted;
        // the counted rows: all of them, as slices of h, or some, by index (gathered a chunk at a time)
        boolean all = n == rows;
        Tensor idx = all || n == 0 ? null : Tensor.ofInts(h.device(), Arrays.copyOf(countedRows, n), n);
        Tensor tc = all ? targets.view(rows) : compactTargets(t, countedRows, n, h);
        boolean graph = Autograd.needsGraph(h, head);
        Tensor dh = graph && h.requiresGrad() ? h.emptyLike() : null;
        Tensor dhead = graph && head.requiresGrad() ? head.emptyLike() : null;
        if (dh != null && !all) {
            be.fill(dh, 0f); // ignored rows get no gradient; the counted ones are added below
        }
        if (dhead != null && n == 0) {
            be.fill(dhead, 0f);
        }
        float scale = n == 0 ? 0f : (float) (1.0 / n);
        Tensor perRow = Tensor.empty(h.device(), DType.F32, n);
        for (int start = 0; start < n; start += chunkRows) {
            int c = Math.min(chunkRows, n - start);
            try (MemoryScope ignored = MemoryScope.open()) {
                Tensor hc = chunkOf(be, h, idx, start, c);
                Tensor logits = Tensor.empty(h.device(), DType.F32, c, vocab);
                Tensor lse = Tensor.empty(h.device(), DType.F32, c);
                be.gemm(false, true, 1f, hc, head, 0f, logits);
                if (!graph) {
                    be.crossEntropyForward(logits, tc.slice(start, c), ignoreIndex, perRow.slice(start, c), lse);
                    continue;
                }
                Tensor d = logits; // overwritten by its gradient
                be.crossEntropyForwardBackward(
                        logits, tc.slice(start, c), ignoreIndex, scale, perRow.slice(start, c), lse, d);
                if (dh != null) {
                    if (idx == null) {
                        timesHead(be, d, head, dh.slice(start, c));
                    } else {
                        Tensor dhc = Tensor.empty(h.device(), DType.F32, c, hidden);
                        timesHead(be, d, head, dhc);
                        be.indexAddRows(dh, idx.slice(start, c), dhc, 1f);
                    }
                }
                if (dhead != null) {
                    be.gemm(true, false, 1f, d, hc, start == 0 ? 0f : 1f, dhead);
                }
            }
        }
        Tensor out = Tensor.empty(h.device(), DType.F32);
        be.fill(out, n == 0 ? 0f : (float) (be.sum(perRow) / n));
        List<Tensor> saved = new ArrayList<>();
        for (Tensor g : new Tensor[] {dh, dhead}) {
            if (g != null) {
                saved.add(g);
            }
        }
        return Autograd.record(out, op, List.of(h, head), saved, g -> {
            float s = g.item(); // the gradients above are those of the loss itself: scale them by the one received
            for (Tensor grad : new Tensor[] {dh, dhead}) {
                if (grad != null && s != 1f) {
                    be.scale(grad, s, grad);
                }
            }
            return new Tensor[] {dh, dhead};
        });
    }

    /**
     * {@code out = d·head} (c x hidden) for a chunk's dlogits d (c x vocab), computed as the transpose of
     * {@code headᵀ·dᵀ}: with a few rows and a long vocabulary to sum over, OpenBLAS runs the product in that
     * orientation 3 to 30 times faster (measured at 32 to 131 rows of a 32k and a 128k vocabulary), and the
     * transpose of a (hidden x c) block costs little next to it.
     */
    private static void timesHead(Backend be, Tensor d, Tensor head, Tensor out) {
        Tensor t = Tensor.empty(out.device(), DType.F32, head.dim(1), d.dim(0));
        be.gemm(true, true, 1f, head, d, 0f, t);
        be.transpose(t, out);
    }

    /** Rows {@code [start, start + c)} of the counted rows of h: a slice, or a gathered copy in the current scope. */
    private static Tensor chunkOf(Backend be, Tensor h, Tensor idx, int start, int c) {
        if (idx == null) {
            return h.slice(start, c);
        }
        Tensor out = Tensor.empty(h.device(), DType.F32, c, h.dim(1));
        be.gatherRows(h, idx.slice(start, c), out);
        return out;
    }

    private static Tensor compactTargets(int[] t, int[] countedRows, int n, Tensor like) {
        int[] c = new int[n];
        for (int i = 0; i < n; i++) {
            c[i] = t[countedRows[i]];
        }
        return Tensor.ofInts(like.device(), c, n);
    }
}
