package io.sbora4j.peft;

import io.sbora4j.backend.Backend;
import io.sbora4j.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * Dropout on an adapter's input (inverted: kept values scaled by 1/(1-p)), with masks that depend only on the
 * config's seed, the layer's path and a counter the trainer sets for each micro-batch: a run resumed from a
 * checkpoint draws exactly the masks the uninterrupted run would have drawn.
 */
public final class DropoutStream {

    private final double p;
    private final long layerSeed;
    private SplittableRandom rng;

    /** Dropout with probability {@code p} for the layer at {@code path}, seeded by {@code seed}. */
    public DropoutStream(double p, long seed, String path) {
        this.p = p;
        this.layerSeed = Seeds.forLayer(seed, path, "dropout").nextLong();
        this.rng = new SplittableRandom(layerSeed);
    }

    /** Restarts the stream for micro-batch {@code counter}. */
    public void reseed(long counter) {
        rng = new SplittableRandom(Seeds.mix(layerSeed ^ Seeds.mix(counter + 0x632BE59BD9B4E019L)));
    }

    /** Whether a mask is drawn in this mode ({@link #mask} returns null otherwise). */
    public boolean active(boolean training) {
        return training && p != 0;
    }

    /**
     * A mask shaped like {@code like}, of its type (so that applying it is one same-type multiply), or null when
     * no dropout applies (p = 0 or not training).
     */
    public Tensor mask(Tensor like, boolean training) {
        if (!training || p == 0) {
            return null;
        }
        float keep = (float) (1.0 / (1.0 - p));
        float[] m = new float[Math.toIntExact(like.numel())];
        for (int i = 0; i < m.length; i++) {
            m[i] = rng.nextDouble() < p ? 0f : keep;
        }
        // drawn on the host, so every device draws the same
        return Tensor.of(like.device(), like.dtype(), m, like.shape().dims());
    }

    /** x ⊙ mask, or x itself when there is no mask. */
    public static Tensor apply(Backend be, Tensor x, Tensor mask) {
        if (mask == null) {
            return x;
        }
        Tensor out = x.emptyLike();
        be.mul(x, mask, out);
        return out;
    }
}
