package io.sbora4j.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.Backends;
import io.sbora4j.backend.Bf16Fallback;
import io.sbora4j.tensor.BFloat16;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Rand;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The cpu backend's bf16 kernels ({@link CpuBf16Backend}) against the reference backend, over random shapes that
 * include the awkward ones (one row, one column, sizes that are not multiples of the vector width) and every mix of
 * types the contract allows. Conversions, element-wise kernels, gathers and index-adds agree bit for bit (the stored
 * bits, NaN payloads included); GEMMs within f32 accumulation plus one bf16 rounding of c. The GEMMs also run with
 * panels of a few hundred floats, so that every blocking path (several blocks of either operand, either loop order,
 * a c tile smaller than the product) is taken on small shapes.
 */
class CpuBf16MatchesReferenceProperties {

    private static final Backend CPU = Backends.of(Device.CPU);
    private static final Backend REF = Backends.of(Device.REFERENCE);

    private static Backend smallPanels(BackendOptions.SboraGemms route) {
        CpuBackend f32 = new CpuBackend(Device.CPU, BackendOptions.DEFAULTS.withSboraGemms(route));
        return new Bf16Fallback(f32, new CpuBf16Backend(f32, 300));
    }

    private static final Backend SMALL = smallPanels(BackendOptions.SboraGemms.AUTO);

    /** A random tensor of {@code type} with values in (-1, 1) (rounded when bf16). */
    private static Tensor random(SplittableRandom rng, DType type, int... dims) {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        return Tensor.of(Device.CPU, type, Rand.floats(rng, Math.toIntExact(n), 1), dims);
    }

    private static Tensor onRef(Tensor t) {
        return t.to(Device.REFERENCE);
    }

    /** The stored bits of an f32 or bf16 tensor, as ints. */
    private static int[] bits(Tensor t) {
        if (t.dtype() == DType.BF16) {
            short[] s = t.data().toArray(ValueLayout.JAVA_SHORT);
            int[] v = new int[s.length];
            for (int i = 0; i < s.length; i++) {
                v[i] = s[i] & 0xffff;
            }
            return v;
        }
        return t.data().toArray(ValueLayout.JAVA_INT);
    }

    private static void assertBitEqual(Tensor ref, Tensor cpu, String what) {
        assertEquals(ref.dtype(), cpu.dtype());
        assertArrayEquals(bits(ref), bits(cpu), what);
    }

    /** |Δ| ≤ tol·max(1, |ref|), plus one bf16 rounding (2⁻⁸ relative) where c is bf16. */
    private static void assertClose(Tensor ref, Tensor cpu, double tol, String what) {
        float[] a = ref.toFloatArray(), b = cpu.toFloatArray();
        double round = cpu.dtype() == DType.BF16 ? 0x1p-7 : 0;
        for (int i = 0; i < a.length; i++) {
            double allowed = (tol + round) * Math.max(1, Math.abs(a[i]));
            assertTrue(Math.abs(a[i] - b[i]) <= allowed, what + " at " + i + ": " + a[i] + " vs " + b[i]);
        }
    }

    private static final DType[] TYPES = {DType.F32, DType.BF16};

    // ---------------------------------------------------------------- conversions

    @Example
    void everyBf16WidensExactly() {
        int n = 1 << 16;
        Tensor h = Tensor.empty(Device.CPU, DType.BF16, n);
        for (int i = 0; i < n; i++) {
            h.data().setAtIndex(ValueLayout.JAVA_SHORT, i, (short) i);
        }
        Tensor f = Tensor.empty(Device.CPU, DType.F32, n);
        CPU.convert(h, f);
        for (int i = 0; i < n; i++) {
            assertEquals(
                    Float.floatToRawIntBits(BFloat16.toFloat((short) i)),
                    f.data().getAtIndex(ValueLayout.JAVA_INT, i),
                    "bf16 " + Integer.toHexString(i));
        }
    }

    /** Float bit patterns that test the rounding: NaNs of both signs with payloads, infinities, ties, subnormals. */
    private static int[] awkwardFloats(SplittableRandom rng, int n) {
        int[] special = {
            0x7fc00000,
            0xffc00000,
            0x7f800001,
            0xff800001,
            0x7fbfffff,
            0x7f80ffff,
            0xffff0000,
            0x7fff8000, // NaNs
            0x7f800000,
            0xff800000,
            0,
            0x80000000, // infinities and zeros
            0x7f7fffff,
            0xff7fffff,
            0x7f7f8000,
            0x7f7f7fff, // the largest floats: round to infinity or not
            0x00000001,
            0x80000001,
            0x00008000,
            0x00018000,
            0x007fffff,
            0x00800000, // subnormals, ties among them
            0x3f808000,
            0x3f818000,
            0x3f808001,
            0x3f817fff,
            0xbf808000,
            0xbf818000 // ties to even, just off ties
        };
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (rng.nextInt(4)) {
                case 0 -> special[rng.nextInt(special.length)];
                case 1 -> (rng.nextInt() & 0xffff0000) | 0x8000; // an exact tie, odd or even
                default -> rng.nextInt(); // any pattern: normal, subnormal, NaN payloads
            };
        }
        return v;
    }

    @Property(tries = 40)
    void f32ToBf16RoundsAsBFloat16(@ForAll @IntRange(min = 1, max = 70_000) int n, @ForAll long seed) {
        int[] v = awkwardFloats(new SplittableRandom(seed), n);
        Tensor f = Tensor.empty(Device.CPU, DType.F32, n);
        for (int i = 0; i < n; i++) {
            f.data().setAtIndex(ValueLayout.JAVA_INT, i, v[i]);
        }
        Tensor h = Tensor.empty(Device.CPU, DType.BF16, n), hRef = Tensor.empty(Device.REFERENCE, DType.BF16, n);
        CPU.convert(f, h);
        REF.convert(onRef(f), hRef);
        assertBitEqual(hRef, h, "f32 to bf16");
        for (int i = 0; i < n; i++) {
            short expected = BFloat16.fromFloat(Float.intBitsToFloat(v[i]));
            assertEquals(expected, h.data().getAtIndex(ValueLayout.JAVA_SHORT, i), "of " + Integer.toHexString(v[i]));
        }
        Tensor back = Tensor.empty(Device.CPU, DType.F32, n), backRef = Tensor.empty(Device.REFERENCE, DType.F32, n);
        CPU.convert(h, back);
        REF.convert(hRef, backRef);
        assertBitEqual(backRef, back, "bf16 to f32");
    }

    // ---------------------------------------------------------------- element-wise and reductions

    @Property(tries = 40)
    void elementwiseKernelsAreExact(@ForAll @IntRange(min = 1, max = 100_000) int n, @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor a = random(rng, DType.BF16, n), b = random(rng, DType.BF16, n);
        Tensor out = Tensor.empty(Device.CPU, DType.BF16, n), outRef = Tensor.empty(Device.REFERENCE, DType.BF16, n);
        Tensor ar = onRef(a), br = onRef(b);
        CPU.add(a, b, out);
        REF.add(ar, br, outRef);
        assertBitEqual(outRef, out, "add");
        CPU.sub(a, b, out);
        REF.sub(ar, br, outRef);
        assertBitEqual(outRef, out, "sub");
        CPU.mul(a, b, out);
        REF.mul(ar, br, outRef);
        assertBitEqual(outRef, out, "mul");
        CPU.div(a, b, out);
        REF.div(ar, br, outRef);
        assertBitEqual(outRef, out, "div");
        CPU.scale(a, 3.3f, out);
        REF.scale(ar, 3.3f, outRef);
        assertBitEqual(outRef, out, "scale");
        CPU.add(a, b, a); // in place
        REF.add(ar, br, ar);
        assertBitEqual(ar, a, "add in place");
        CPU.fill(out, 2.7182817f);
        REF.fill(outRef, 2.7182817f);
        assertBitEqual(outRef, out, "fill");
    }

    @Property(tries = 40)
    void axpyIsExactForEveryMixOfTypes(
            @ForAll @IntRange(min = 1, max = 100_000) int n,
            @ForAll @IntRange(min = 0, max = 3) int types,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor x = random(rng, TYPES[types & 1], n), y = random(rng, TYPES[types >> 1], n);
        Tensor yRef = onRef(y);
        CPU.axpy(-0.7f, x, y);
        REF.axpy(-0.7f, onRef(x), yRef);
        assertBitEqual(yRef, y, "axpy " + x.dtype() + " into " + y.dtype());
    }

    @Property(tries = 30)
    void reductionsAgree(@ForAll @IntRange(min = 0, max = 200_000) int n, @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor x = random(rng, DType.BF16, Math.max(1, n));
        assertEquals(REF.sum(onRef(x)), CPU.sum(x), 1e-9 * Math.max(1, n));
        assertEquals(0, CPU.countNonFinite(x));
    }

    @Example
    void countNonFiniteFindsNanAndBothInfinitiesInBf16() {
        float[] v = new float[100_003];
        v[3] = Float.NaN;
        v[50_000] = Float.POSITIVE_INFINITY;
        v[100_002] = Float.NEGATIVE_INFINITY;
        v[7] = Float.MAX_VALUE; // rounds to infinity in bf16
        v[8] = 0x1.fep127f; // the largest bf16: finite
        Tensor x = Tensor.of(Device.CPU, DType.BF16, v, v.length);
        assertEquals(REF.countNonFinite(onRef(x)), CPU.countNonFinite(x));
        assertEquals(4, CPU.countNonFinite(x));
    }

    // ---------------------------------------------------------------- gathers and index-adds

    @Property(tries = 60)
    void gathersAndIndexAddsAreExact(
            @ForAll @IntRange(min = 1, max = 300) int rows,
            @ForAll @IntRange(min = 1, max = 130) int cols,
            @ForAll @IntRange(min = 1, max = 130) int rWanted,
            @ForAll @IntRange(min = 0, max = 2) int types,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        DType dst = types == 1 ? DType.F32 : DType.BF16, src = types == 2 ? DType.F32 : DType.BF16;
        // along columns: x (rows x cols)[:, idx]
        int rc = Math.min(rWanted, cols);
        int[] ic = Rand.distinct(rng, cols, rc);
        Tensor x = random(rng, dst, rows, cols), xRef = onRef(x);
        Tensor idx = Tensor.ofInts(Device.CPU, ic, rc), idxRef = Tensor.ofInts(Device.REFERENCE, ic, rc);
        Tensor g = Tensor.empty(Device.CPU, dst, rows, rc), gRef = Tensor.empty(Device.REFERENCE, dst, rows, rc);
        CPU.gatherCols(x, idx, g);
        REF.gatherCols(xRef, idxRef, gRef);
        assertBitEqual(gRef, g, "gatherCols");
        Tensor s = random(rng, src, rows, rc);
        CPU.indexAddCols(x, idx, s, -0.37f);
        REF.indexAddCols(xRef, idxRef, onRef(s), -0.37f);
        assertBitEqual(xRef, x, "indexAddCols " + src + " into " + dst);
        // along rows: w (cols x rows)[idx, :], repeated indices in the index-add (the embedding backward)
        int rr = Math.min(rWanted, cols);
        int[] ir = Rand.distinct(rng, cols, rr);
        Tensor w = random(rng, dst, cols, rows), wRef = onRef(w);
        Tensor idr = Tensor.ofInts(Device.CPU, ir, rr), idrRef = Tensor.ofInts(Device.REFERENCE, ir, rr);
        Tensor gr = Tensor.empty(Device.CPU, dst, rr, rows), grRef = Tensor.empty(Device.REFERENCE, dst, rr, rows);
        CPU.gatherRows(w, idr, gr);
        REF.gatherRows(wRef, idrRef, grRef);
        assertBitEqual(grRef, gr, "gatherRows");
        int[] rep = new int[rr + 3];
        for (int j = 0; j < rep.length; j++) {
            rep[j] = ir[j % rr];
        }
        Tensor sr = random(rng, src, rep.length, rows);
        CPU.indexAddRows(w, Tensor.ofInts(Device.CPU, rep, rep.length), sr, 1.5f);
        REF.indexAddRows(wRef, Tensor.ofInts(Device.REFERENCE, rep, rep.length), onRef(sr), 1.5f);
        assertBitEqual(wRef, w, "indexAddRows " + src + " into " + dst);
    }

    @Example
    void largeIndexAddsRunOnSeveralThreadsAndStayExact() {
        SplittableRandom rng = new SplittableRandom(9);
        Tensor x = random(rng, DType.BF16, 1031, 517), xRef = onRef(x);
        int[] ic = Rand.distinct(rng, 517, 517);
        Tensor src = random(rng, DType.F32, 1031, 517);
        CPU.indexAddCols(x, Tensor.ofInts(Device.CPU, ic, 517), src, 0.3f);
        REF.indexAddCols(xRef, Tensor.ofInts(Device.REFERENCE, ic, 517), onRef(src), 0.3f);
        assertBitEqual(xRef, x, "indexAddCols r = cols");
    }

    // ---------------------------------------------------------------- GEMMs

    /**
     * Every mix of types with a bf16 among a, b and c, either operand transposed, beta 0 or not, on the default
     * panels and on small ones (several blocks of each operand).
     */
    @Property(tries = 80)
    void gemmMatchesForEveryMixOfTypes(
            @ForAll @IntRange(min = 1, max = 40) int m,
            @ForAll @IntRange(min = 1, max = 40) int n,
            @ForAll @IntRange(min = 1, max = 70) int k,
            @ForAll @IntRange(min = 1, max = 7) int types,
            @ForAll boolean ta,
            @ForAll boolean tb,
            @ForAll boolean withBeta,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        DType at = TYPES[types & 1], bt = TYPES[(types >> 1) & 1], ct = TYPES[types >> 2];
        Tensor a = ta ? random(rng, at, k, m) : random(rng, at, m, k);
        Tensor b = tb ? random(rng, bt, n, k) : random(rng, bt, k, n);
        Tensor c0 = random(rng, ct, m, n);
        float beta = withBeta ? 0.5f : 0f;
        Tensor cRef = onRef(c0);
        REF.gemm(ta, tb, 0.75f, onRef(a), onRef(b), beta, cRef);
        for (Backend be : new Backend[] {CPU, SMALL}) {
            Tensor c = c0.to(Device.CPU);
            be.gemm(ta, tb, 0.75f, a, b, beta, c);
            assertClose(cRef, c, 1e-5 * k, "gemm " + at + " x " + bt + " -> " + ct + " on " + be.describe());
        }
    }

    /** c = alpha·aᵀ·b with few columns and beta 0 (the thin kernel), over many rows: SBoRA-FA's dB. */
    @Property(tries = 40)
    void thinWeightGradientGemmMatches(
            @ForAll @IntRange(min = 1, max = 300) int rows,
            @ForAll @IntRange(min = 1, max = 90) int m,
            @ForAll @IntRange(min = 1, max = 32) int n,
            @ForAll boolean cBf16,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor a = random(rng, DType.BF16, rows, m), b = random(rng, DType.BF16, rows, n);
        Tensor c0 = random(rng, cBf16 ? DType.BF16 : DType.F32, m, n), cRef = onRef(c0);
        REF.gemm(true, false, -1.25f, onRef(a), onRef(b), 0f, cRef);
        for (Backend be : new Backend[] {CPU, SMALL}) {
            Tensor c = c0.to(Device.CPU);
            be.gemm(true, false, -1.25f, a, b, 0f, c);
            assertClose(cRef, c, 1e-5 * rows, "aᵀ·b on " + be.describe());
        }
    }

    @Example
    void gemmWithNoInnerDimensionScalesC() {
        Tensor c = Tensor.of(Device.CPU, DType.BF16, new float[] {1, -2, 3, 0.5f}, 2, 2);
        CPU.gemm(
                false,
                false,
                1f,
                Tensor.empty(Device.CPU, DType.BF16, 2, 0),
                Tensor.empty(Device.CPU, DType.BF16, 0, 2),
                0.5f,
                c);
        assertArrayEquals(new float[] {0.5f, -1, 1.5f, 0.25f}, c.toFloatArray());
    }

    /**
     * The fused bf16 kernels on shapes the property does not reach: rows enough for several threads, r above the
     * 512 gathered values the gather kernel holds per row at a time, and widths that are not whole tiles.
     */
    @Example
    void sboraGemmsOnLargeShapesAndLongIndexLists() {
        int[][] shapes = {{1031, 517, 16, 1376}, {37, 700, 600, 45}, {300, 64, 64, 33}};
        for (int[] s : shapes) {
            int m = s[0], cols = s[1], r = s[2], n = s[3];
            SplittableRandom rng = new SplittableRandom(m + r);
            int[] iv = Rand.distinct(rng, cols, r);
            Tensor idx = Tensor.ofInts(Device.CPU, iv, r), idxRef = Tensor.ofInts(Device.REFERENCE, iv, r);
            for (boolean transF : new boolean[] {true, false}) {
                Tensor x = random(rng, DType.BF16, m, cols);
                Tensor f = transF ? random(rng, DType.F32, n, r) : random(rng, DType.F32, r, n);
                Tensor c = random(rng, DType.BF16, m, n), xs = Tensor.empty(Device.CPU, DType.BF16, m, r);
                Tensor cRef = onRef(c), xsRef = Tensor.empty(Device.REFERENCE, DType.BF16, m, r);
                REF.gatherGemm(onRef(x), idxRef, onRef(f), transF, 0.5f, cRef, xsRef);
                CPU.gatherGemm(x, idx, f, transF, 0.5f, c, xs);
                assertClose(cRef, c, 1e-5 * r, "gatherGemm " + m + "x" + cols + " r " + r + " n " + n);
                assertBitEqual(xsRef, xs, "gatherGemm xs");
                Tensor a = random(rng, DType.BF16, m, n);
                Tensor g = transF ? random(rng, DType.F32, r, n) : random(rng, DType.F32, n, r);
                Tensor d = random(rng, DType.BF16, m, cols), dRef = onRef(d);
                REF.gemmScatter(onRef(a), onRef(g), transF, idxRef, -2f, dRef);
                CPU.gemmScatter(a, g, transF, idx, -2f, d);
                assertClose(dRef, d, 1e-5 * n, "gemmScatter " + m + "x" + n + " r " + r);
            }
        }
    }

    /**
     * SBoRA's gather and scatter GEMMs with bf16 activations (x, c, xs; a and c) and an f32 factor, on each route
     * (the fused kernels on widened blocks, a gather and the bf16 GEMM, the choice by shape) and on small panels.
     */
    @Property(tries = 40)
    void sboraGemmsMatchOnEveryRoute(
            @ForAll @IntRange(min = 1, max = 200) int m,
            @ForAll @IntRange(min = 1, max = 90) int cols,
            @ForAll @IntRange(min = 1, max = 70) int rWanted,
            @ForAll @IntRange(min = 1, max = 90) int n,
            @ForAll boolean transF,
            @ForAll boolean keep,
            @ForAll @IntRange(min = 0, max = 2) int types,
            @ForAll long seed) {
        int r = Math.min(rWanted, cols);
        DType xt = types == 2 ? DType.F32 : DType.BF16, ct = types == 1 ? DType.F32 : DType.BF16;
        SplittableRandom rng = new SplittableRandom(seed);
        int[] iv = Rand.distinct(rng, cols, r);
        Tensor idx = Tensor.ofInts(Device.CPU, iv, r), idxRef = Tensor.ofInts(Device.REFERENCE, iv, r);
        Tensor x = random(rng, xt, m, cols), f = transF ? random(rng, DType.F32, n, r) : random(rng, DType.F32, r, n);
        Tensor c0 = random(rng, ct, m, n);
        Tensor a = random(rng, xt, m, n), g = transF ? random(rng, DType.F32, r, n) : random(rng, DType.F32, n, r);
        Tensor d0 = random(rng, ct, m, cols);
        Tensor cRef = onRef(c0), xsRef = keep ? Tensor.empty(Device.REFERENCE, xt, m, r) : null, dRef = onRef(d0);
        REF.gatherGemm(onRef(x), idxRef, onRef(f), transF, 0.5f, cRef, xsRef);
        REF.gemmScatter(onRef(a), onRef(g), transF, idxRef, -2f, dRef);
        for (BackendOptions.SboraGemms route : BackendOptions.SboraGemms.values()) {
            for (Backend be : new Backend[] {
                Backends.open("cpu", BackendOptions.DEFAULTS.withSboraGemms(route)), smallPanels(route)
            }) {
                String on = route + " " + xt + " -> " + ct + " on " + be.describe();
                Tensor c = c0.to(Device.CPU), xs = keep ? Tensor.empty(Device.CPU, xt, m, r) : null;
                be.gatherGemm(x, idx, f, transF, 0.5f, c, xs);
                assertClose(cRef, c, 1e-5 * r, "gatherGemm " + on);
                if (keep) {
                    assertBitEqual(xsRef, xs, "gatherGemm xs " + on);
                }
                Tensor d = d0.to(Device.CPU);
                be.gemmScatter(a, g, transF, idx, -2f, d);
                assertClose(dRef, d, 1e-5 * n, "gemmScatter " + on);
            }
        }
    }
}
