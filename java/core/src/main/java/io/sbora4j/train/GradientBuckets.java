package io.sbora4j.train;

import io.sbora4j.dist.Communicator;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * The gradients of the trainable parameters, summed over the ranks a few large all-reduces at a time: one per
 * parameter would pay the latency of a collective hundreds of times per step (an adapter has two or three small
 * tensors per adapted projection). The gradients are copied into contiguous f32 buffers of at most a bound each
 * (a parameter larger than the bound spans several), each buffer is all-reduced in one call, and the sums are
 * copied back. The buffers live on the parameters' device and are made once per run.
 */
final class GradientBuckets {

    /** A run of {@code length} elements of a parameter, from {@code from}, at {@code at} in a bucket. */
    private record Piece(Tensor param, int from, int at, int length) {}

    private final List<Tensor> buckets = new ArrayList<>();
    private final List<List<Piece>> pieces = new ArrayList<>();

    /** Buckets of at most {@code maxBytes} (rounded down to whole f32 elements) for {@code params}, in their order. */
    GradientBuckets(List<Tensor> params, long maxBytes, Arena arena) {
        Device device = params.getFirst().device();
        for (Tensor p : params) {
            if (p.dtype() != DType.F32) {
                throw new IllegalArgumentException(
                        "data-parallel training sums f32 gradients; " + p.describe() + " is " + p.dtype());
            }
            if (!p.device().equals(device)) {
                throw new IllegalArgumentException("data-parallel training needs all trainable parameters on one"
                        + " device; they are on " + device + " and " + p.device());
            }
        }
        int cap = (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxBytes / Float.BYTES));
        List<Piece> current = new ArrayList<>();
        int used = 0;
        for (Tensor p : params) {
            long n = p.numel();
            for (long from = 0; from < n; ) {
                if (used == cap) {
                    close(current, used, device, arena);
                    current = new ArrayList<>();
                    used = 0;
                }
                int len = (int) Math.min(n - from, cap - used);
                current.add(new Piece(p, (int) from, used, len));
                used += len;
                from += len;
            }
        }
        if (used > 0) {
            close(current, used, device, arena);
        }
    }

    private void close(List<Piece> ps, int used, Device device, Arena arena) {
        buckets.add(Tensor.empty(arena, device, DType.F32, used));
        pieces.add(ps);
    }

    /** The number of buckets: all-reduces per step. */
    int count() {
        return buckets.size();
    }

    /**
     * Replaces every gradient by its sum over the ranks of {@code c}. A parameter without a gradient contributes
     * zeros and keeps none: every rank runs the same graph, so one that has none here has none anywhere.
     */
    void allReduce(Communicator c) {
        for (int b = 0; b < buckets.size(); b++) {
            Tensor bucket = buckets.get(b);
            for (Piece p : pieces.get(b)) {
                Tensor dst = bucket.slice(p.at(), p.length());
                if (p.param().grad() == null) {
                    dst.copyFrom(new float[p.length()]);
                } else {
                    dst.copyFrom(flat(p.param().grad()).slice(p.from(), p.length()));
                }
            }
            c.allReduceSum(bucket);
            for (Piece p : pieces.get(b)) {
                if (p.param().grad() != null) {
                    flat(p.param().grad()).slice(p.from(), p.length()).copyFrom(bucket.slice(p.at(), p.length()));
                }
            }
        }
    }

    private static Tensor flat(Tensor t) {
        return t.view((int) t.numel());
    }
}
