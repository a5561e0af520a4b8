package io.sbora4j.ops;

import java.util.Locale;

/**
 * How a model's rotary frequencies depart from the plain 1 / θ^(2j/d): the {@code rope_scaling} of a Hugging Face
 * {@code config.json}, for the types HF's {@code modeling_rope_utils} computes without an attention factor.
 *
 * <ul>
 *   <li>{@link Type#DEFAULT}: no scaling (also what {@code rope_scaling: null} means).
 *   <li>{@link Type#LINEAR}: every frequency divided by {@code factor}, i.e. positions divided by it.
 *   <li>{@link Type#DYNAMIC}: dynamic NTK. For a sequence longer than {@code originalMaxPositions} the base becomes
 *       θ · (factor · len / original − (factor − 1))^(d / (d − 2)); shorter sequences use θ. The frequencies thus
 *       depend on the length of the sequence being run ({@link #dependsOnLength}).
 *   <li>{@link Type#LLAMA3}: Llama 3.1's smooth interpolation: wavelengths longer than original / lowFreqFactor are
 *       divided by {@code factor}, those shorter than original / highFreqFactor are kept, and those in between
 *       blended.
 * </ul>
 *
 * @param type                 the kind of scaling
 * @param factor               the scaling factor (1 for {@link Type#DEFAULT})
 * @param lowFreqFactor        llama3 only: the low-frequency boundary
 * @param highFreqFactor       llama3 only: the high-frequency boundary
 * @param originalMaxPositions llama3 and dynamic: the context length the model was pre-trained with
 */
public record RopeScaling(
        Type type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {

    /** The supported kinds of scaling. */
    public enum Type {
        /** No scaling. */
        DEFAULT,
        /** Frequencies divided by the factor. */
        LINEAR,
        /** Dynamic NTK: the base grows with the sequence length beyond the original context. */
        DYNAMIC,
        /** Llama 3.1's wavelength-dependent interpolation. */
        LLAMA3
    }

    /** No scaling. */
    public static final RopeScaling NONE = new RopeScaling(Type.DEFAULT, 1, 0, 0, 0);

    /** Checks the parameters the type uses; the messages name HF's keys. */
    public RopeScaling {
        if (type == null) {
            throw new IllegalArgumentException("rope_scaling: type must not be null");
        }
        if (type != Type.DEFAULT && (!(factor > 0) || !Double.isFinite(factor))) {
            throw new IllegalArgumentException("rope_scaling factor must be positive and finite, got " + factor);
        }
        if (type == Type.LLAMA3) {
            if (!Double.isFinite(lowFreqFactor) || !Double.isFinite(highFreqFactor) || !(lowFreqFactor > 0)) {
                throw new IllegalArgumentException("rope_scaling low_freq_factor " + lowFreqFactor
                        + " and high_freq_factor " + highFreqFactor + " must be positive and finite");
            }
            // the blend divides by their difference: equal factors would make it 0/0
            if (!(highFreqFactor > lowFreqFactor)) {
                throw new IllegalArgumentException("rope_scaling high_freq_factor " + highFreqFactor
                        + " must exceed low_freq_factor " + lowFreqFactor);
            }
        }
        if ((type == Type.LLAMA3 || type == Type.DYNAMIC) && originalMaxPositions < 1) {
            throw new IllegalArgumentException(
                    "rope_scaling original_max_position_embeddings must be positive, got " + originalMaxPositions);
        }
    }

    /** Frequencies divided by {@code factor}. */
    public static RopeScaling linear(double factor) {
        return new RopeScaling(Type.LINEAR, factor, 0, 0, 0);
    }

    /** Dynamic NTK beyond {@code originalMaxPositions}. */
    public static RopeScaling dynamic(double factor, int originalMaxPositions) {
        return new RopeScaling(Type.DYNAMIC, factor, 0, 0, originalMaxPositions);
    }

    /** Llama 3.1's scaling. */
    public static RopeScaling llama3(
            double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
        return new RopeScaling(Type.LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositions);
    }

    /** Whether the frequencies depend on the length of the sequence being run (dynamic NTK beyond the original). */
    public boolean dependsOnLength() {
        return type == Type.DYNAMIC;
    }

    /** HF's name of the type: default, linear, dynamic or llama3. */
    public String hfName() {
        return type.name().toLowerCase(Locale.ROOT);
    }

    /**
     * The inverse frequencies of a head of width {@code headDim} (headDim/2 values) with base {@code theta}, for a
     * sequence of {@code seqLen} positions (used by dynamic scaling only), rounded to float32 as HF computes them.
     */
    public float[] invFreq(int headDim, double theta, int seqLen) {
        double base = theta;
        if (type == Type.DYNAMIC && seqLen > originalMaxPositions) {
            base = theta
                    * Math.pow(factor * seqLen / originalMaxPositions - (factor - 1), (double) headDim / (headDim - 2));
        }
        int h = headDim / 2;
        float[] inv = new float[h];
        for (int j = 0; j < h; j++) {
            // HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), a float32 tensor
            float exponent = (float) (2 * j) / headDim;
            inv[j] = (float) (1.0 / (float) Math.pow(base, exponent));
        }
        switch (type) {
            case LINEAR -> {
                for (int j = 0; j < h; j++) {
                    inv[j] = (float) (inv[j] / factor);
                }
            }
            case LLAMA3 -> {
                double lowFreqWavelen = originalMaxPositions / lowFreqFactor;
                double highFreqWavelen = originalMaxPositions / highFreqFactor;
                for (int j = 0; j < h; j++) {
                    double wavelen = 2 * Math.PI / inv[j];
                    if (wavelen > lowFreqWavelen) {
                        inv[j] = (float) (inv[j] / factor); // long wavelengths: interpolated fully
                    } else if (!(wavelen < highFreqWavelen)) { // in between: blended
                        double smooth =
                                (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                        inv[j] = (float) ((1 - smooth) * inv[j] / factor + smooth * inv[j]);
                    } // short wavelengths: kept
                }
            }
            default -> {}
        }
        return inv;
    }
}
