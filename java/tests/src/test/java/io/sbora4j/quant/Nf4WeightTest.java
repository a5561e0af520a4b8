package io.sbora4j.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.backend.Nf4Code;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** NF4 with double-quantised scales, as QLoRA stores a base weight. */
class Nf4WeightTest {

    /** Half the widest gap between neighbouring NF4 values: the encoding's error bound in units of absmax. */
    private static final float NF4_HALF_GAP = widestHalfGap();

    private static float widestHalfGap() {
        float g = 0;
        for (int k = 0; k < 15; k++) {
            g = Math.max(g, (Nf4Code.value(k + 1) - Nf4Code.value(k)) / 2);
        }
        return g;
    }

    static Tensor gaussian(Device d, int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * 0.05);
        }
        return Tensor.of(Arena.ofAuto(), d, v, rows, cols);
    }

    /**
     * Where {@code back} is not the NF4 round trip of {@code x}: the first element whose decoded value is not
     * NF4[k] · scale[b] for a level k nearest to x / absmax (absmax: the block's exact max |x|, which chooses the code;
     * scale: what decodes it), or empty. Independent of the kernels' midpoint search; a tie may go either way. A
     * uniform 4-bit code fails this where a bound on the error alone would not: its levels are not NF4's.
     */
    static Optional<String> firstNonNf4Element(float[] x, float[] back, float[] scale) {
        for (int b = 0; b * Nf4Weight.BLOCK < x.length; b++) {
            int lo = b * Nf4Weight.BLOCK, hi = Math.min(x.length, lo + Nf4Weight.BLOCK);
            float absmax = 0;
            for (int i = lo; i < hi; i++) {
                absmax = Math.max(absmax, Math.abs(x[i]));
            }
            for (int i = lo; i < hi; i++) {
                int code = -1;
                for (int k = 0; k < 16 && code < 0; k++) {
                    code = Nf4Code.value(k) * scale[b] == back[i] ? k : -1;
                }
                if (code < 0) {
                    return Optional.of(
                            "element " + i + ": " + x[i] + " -> " + back[i] + " is no NF4 level times " + scale[b]);
                }
                double t = absmax > 0 ? (double) x[i] / absmax : 0, best = Double.MAX_VALUE;
                for (int k = 0; k < 16; k++) {
                    best = Math.min(best, Math.abs(t - Nf4Code.value(k)));
                }
                // 1e-6: x * (1/absmax) in float against an exact quotient, at a midpoint
                if (Math.abs(t - Nf4Code.value(code)) > best + 1e-6) {
                    return Optional.of("element " + i + ": " + x[i] + " (" + t + " of absmax) got NF4 level " + code
                            + " (" + Nf4Code.value(code) + "), not the nearest");
                }
            }
        }
        return Optional.empty();
    }

    @Property(tries = 30)
    void everyElementDecodesToItsNearestNf4Level(
            @ForAll @IntRange(min = 1, max = 40) int rows,
            @ForAll @IntRange(min = 1, max = 300) int cols,
            @ForAll long seed) {
        Tensor w = gaussian(Device.CPU, rows, cols, seed);
        Nf4Weight q = Nf4Weight.quantize(w, Arena.ofAuto());
        float[] x = w.toFloatArray(), back = q.dequantize().toFloatArray();
        float[] scale = new float[q.blocks()];
        for (int b = 0; b < q.blocks(); b++) {
            scale[b] = q.absmax(b);
        }
        Optional<String> wrong = firstNonNf4Element(x, back, scale);
        assertTrue(wrong.isEmpty(), () -> wrong.orElseThrow());
        for (int b = 0; b < q.blocks(); b++) {
            float exact = 0;
            for (int i = b * Nf4Weight.BLOCK; i < Math.min(x.length, (b + 1) * Nf4Weight.BLOCK); i++) {
                exact = Math.max(exact, Math.abs(x[i]));
            }
            for (int i = b * Nf4Weight.BLOCK; i < Math.min(x.length, (b + 1) * Nf4Weight.BLOCK); i++) {
                // the code is chosen against the exact absmax and decoded with the double-quantised one
                double bound = NF4_HALF_GAP * exact + Math.abs(scale[b] - exact) + 1e-7;
                assertTrue(Math.abs(back[i] - x[i]) <= bound, "element " + i + ": " + x[i] + " -> " + back[i]);
            }
        }
    }

    /** x quantised blockwise to the nearest of {@code levels} (in units of the block's absmax) and decoded again. */
    private static float[] roundTrip(float[] x, float[] levels, float[] absmaxOut) {
        float[] out = new float[x.length];
        for (int b = 0; b * Nf4Weight.BLOCK < x.length; b++) {
            int lo = b * Nf4Weight.BLOCK, hi = Math.min(x.length, lo + Nf4Weight.BLOCK);
            float m = 0;
            for (int i = lo; i < hi; i++) {
                m = Math.max(m, Math.abs(x[i]));
            }
            absmaxOut[b] = m;
            for (int i = lo; i < hi; i++) {
                double t = m > 0 ? (double) x[i] / m : 0;
                int best = 0;
                for (int k = 1; k < levels.length; k++) {
                    best = Math.abs(t - levels[k]) < Math.abs(t - levels[best]) ? k : best;
                }
                out[i] = levels[best] * m;
            }
        }
        return out;
    }

    private static double relativeRmsError(float[] x, float[] back) {
        double err = 0, ref = 0;
        for (int i = 0; i < x.length; i++) {
            err += ((double) back[i] - x[i]) * ((double) back[i] - x[i]);
            ref += (double) x[i] * x[i];
        }
        return Math.sqrt(err / ref);
    }

    /**
     * NF4's levels are the quantiles of a normal distribution, so on normal weights they lose less than 4-bit codes
     * with evenly spaced levels, even when those get each block's exact absmax (NF4 here decodes with its
     * double-quantised one): about 9.2% relative RMS error against 9.9-10.7%. A quantiser with uniform levels
     * fails this test, and fails {@link #firstNonNf4Element}.
     */
    @Test
    void normalWeightsLoseLessThanUnderUniformFourBitCodes() {
        Tensor w = gaussian(Device.CPU, 256, 1024, 5);
        float[] x = w.toFloatArray();
        double nf4 = relativeRmsError(
                x, Nf4Weight.quantize(w, Arena.ofAuto()).dequantize().toFloatArray());
        float[][] uniform = new float[3][];
        uniform[0] = new float[16]; // 16 levels from -1 to 1
        uniform[1] = new float[15]; // int4's -7..7, symmetric
        uniform[2] = new float[16]; // int4's -8..7 over 8
        for (int k = 0; k < 16; k++) {
            uniform[0][k] = -1f + 2f * k / 15;
            uniform[2][k] = (k - 8) / 8f;
        }
        for (int k = 0; k < 15; k++) {
            uniform[1][k] = (k - 7) / 7f;
        }
        for (float[] levels : uniform) {
            float[] absmax = new float[(x.length + Nf4Weight.BLOCK - 1) / Nf4Weight.BLOCK];
            float[] back = roundTrip(x, levels, absmax);
            double u = relativeRmsError(x, back);
            assertTrue(
                    nf4 < 0.95 * u,
                    "NF4 relative RMS error " + nf4 + " is not 5% below a uniform code's " + u + " (" + levels.length
                            + " levels)");
            assertTrue(
                    firstNonNf4Element(x, back, absmax).isPresent(),
                    "a uniform code passed as NF4 (" + levels.length + " levels)");
        }
        assertTrue(nf4 < 0.095, "NF4 relative RMS error on normal weights: " + nf4);
    }

    @Test
    void doubleQuantisedScalesStayWithinTheEightBitMapsBound() {
        Nf4Weight q = Nf4Weight.quantize(gaussian(Device.CPU, 300, 256, 3), Arena.ofAuto());
        Backend be = Backends.of(Device.CPU);
        Tensor w = gaussian(Device.CPU, 300, 256, 3);
        Tensor exact = Tensor.zeros(Device.CPU, q.blocks());
        be.nf4Quantize(w, Nf4Weight.BLOCK, Tensor.empty(Device.CPU, DType.U8, (int) (w.numel() / 2)), exact);
        for (int g = 0; g * Nf4Weight.SCALE_BLOCK < q.blocks(); g++) {
            float scale = 0;
            for (int b = g * Nf4Weight.SCALE_BLOCK; b < Math.min(q.blocks(), (g + 1) * Nf4Weight.SCALE_BLOCK); b++) {
                scale = Math.max(scale, Math.abs(exact.getFloat(b) - q.offset()));
            }
            for (int b = g * Nf4Weight.SCALE_BLOCK; b < Math.min(q.blocks(), (g + 1) * Nf4Weight.SCALE_BLOCK); b++) {
                double err = Math.abs(q.absmax(b) - exact.getFloat(b));
                assertTrue(err <= DynamicMap8.maxHalfGap() * scale + 1e-7, "block " + b + " scale error " + err);
            }
        }
    }

    @Test
    void valuesOnCodePointsComeBackExactly() {
        for (Device d : new Device[] {Device.CPU, Device.REFERENCE}) {
            Backend be = Backends.of(d);
            float absmax = 0.375f;
            float[] v = new float[128];
            for (int i = 0; i < v.length; i++) {
                v[i] = Nf4Code.value(i % 16) * absmax;
            }
            Tensor x = Tensor.of(d, v, 128);
            Tensor packed = Tensor.empty(d, DType.U8, 64), am = Tensor.zeros(d, 2), out = Tensor.zeros(d, 128);
            be.nf4Quantize(x, 64, packed, am);
            be.nf4Dequantize(packed, am, 0, 64, out);
            assertArrayEquals(v, out.toFloatArray(), 0f, d.name());
            assertEquals(0x01, packed.data().get(ValueLayout.JAVA_BYTE, 0), "the even element sits in the high nibble");
        }
    }

    @Property(tries = 30)
    void cpuAndReferenceEncodeTheSameBytesAndDecodeTheSameFloats(
            @ForAll @IntRange(min = 1, max = 5000) int n, @ForAll long seed) {
        Tensor x = gaussian(Device.CPU, 1, n, seed).view(n);
        Tensor xr = x.to(Device.REFERENCE);
        int blocks = (n + 63) / 64;
        Tensor p = Tensor.empty(Device.CPU, DType.U8, (n + 1) / 2), a = Tensor.zeros(Device.CPU, blocks);
        Tensor pr = Tensor.empty(Device.REFERENCE, DType.U8, (n + 1) / 2), ar = Tensor.zeros(Device.REFERENCE, blocks);
        Backends.of(Device.CPU).nf4Quantize(x, 64, p, a);
        Backends.of(Device.REFERENCE).nf4Quantize(xr, 64, pr, ar);
        assertArrayEquals(pr.data().toArray(ValueLayout.JAVA_BYTE), p.data().toArray(ValueLayout.JAVA_BYTE));
        assertArrayEquals(ar.toFloatArray(), a.toFloatArray(), 0f);
        int start = n / 3;
        Tensor out = Tensor.zeros(Device.CPU, n - start), outR = Tensor.zeros(Device.REFERENCE, n - start);
        Backends.of(Device.CPU).nf4Dequantize(p, a, start, 64, out);
        Backends.of(Device.REFERENCE).nf4Dequantize(pr, ar, start, 64, outR);
        assertArrayEquals(outR.toFloatArray(), out.toFloatArray(), 0f);
    }

    @Test
    void storesAbout4point127BitsPerParameter() {
        Nf4Weight q = Nf4Weight.quantize(gaussian(Device.CPU, 256, 1024, 4), Arena.ofAuto());
        // 4 bits + 8 bits per 64 + 32 bits per 64·256, plus one 32-bit offset for the whole weight
        assertEquals(4 + 8.0 / 64 + 32.0 / (64 * 256) + 32.0 / (256 * 1024), q.bitsPerParameter(), 1e-9);
    }

    @Test
    void rejectsNonFiniteWeights() {
        Tensor w = gaussian(Device.CPU, 2, 64, 1);
        w.setFloat(5, Float.NaN);
        var e = assertThrows(IllegalArgumentException.class, () -> Nf4Weight.quantize(w, Arena.ofAuto()));
        assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
    }
}
