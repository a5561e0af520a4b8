package io.sbora4j.ops;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;

/**
 * The cos and sin tables of rotary position embeddings for positions [0, maxPositions) and one head width,
 * computed as HF's LlamaRotaryEmbedding does in float32: inv_freq[j] = 1 / θ^(2j/d), angle = pos · inv_freq[j].
 */
public final class RopeTables {

    private final Tensor cos;
    private final Tensor sin;
    private final int headDim;
    private final int maxPositions;

    public RopeTables(Arena arena, Device device, int headDim, int maxPositions, double theta) {
        if (headDim < 2 || headDim % 2 != 0 || maxPositions < 1 || !(theta > 0)) {
            throw new IllegalArgumentException("rope: head_dim " + headDim + " must be even, max positions "
                    + maxPositions + " >= 1, theta " + theta + " > 0");
        }
        int h = headDim / 2;
        float[] c = new float[maxPositions * h], s = new float[maxPositions * h];
        for (int j = 0; j < h; j++) {
            float exponent = (float) (2 * j) / headDim;
            float invFreq = (float) (1.0 / (float) Math.pow(theta, exponent));
            for (int p = 0; p < maxPositions; p++) {
                float angle = p * invFreq; // float32, as torch multiplies the float position by inv_freq
                c[p * h + j] = (float) Math.cos(angle);
                s[p * h + j] = (float) Math.sin(angle);
            }
        }
        this.cos = Tensor.of(arena, device, c, maxPositions, h);
        this.sin = Tensor.of(arena, device, s, maxPositions, h);
        this.headDim = headDim;
        this.maxPositions = maxPositions;
    }

    public Tensor cos() {
        return cos;
    }

    public Tensor sin() {
        return sin;
    }

    public int headDim() {
        return headDim;
    }

    public int maxPositions() {
        return maxPositions;
    }
}
