/* Small math helpers of the CPU kernels, written so that GCC vectorises the loops that call them. */
#ifndef SB_MATH_H
#define SB_MATH_H

#include <stdint.h>
#include <string.h>

static inline uint32_t sb_float_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float sb_bits_float(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* c ? a : b without a branch. GCC turns a ?: on floats into a branch (it may not use min/max instructions while
 * NaNs are honoured), then copies the code after it into both paths; with -ftrapping-math (the default) the copied
 * float arithmetic counts as a possible trap on one path and the loop is no longer vectorised where the target has
 * no masked instructions (AVX2 and older). A select on the bits stays a select. */
static inline float sb_select(int c, float a, float b) {
    const uint32_t m = 0u - (uint32_t)(c != 0);
    return sb_bits_float((sb_float_bits(a) & m) | (sb_float_bits(b) & ~m));
}

/* e^x without branches or table look-ups, so that a loop of calls vectorises (libm's expf does not), within about
 * 2 ulp of the true value where the result is a normal float (see native/bench/attention_bench.c for the measured
 * error). x -> -inf gives 0, results below FLT_MIN are rounded to subnormals as a correctly scaled product would
 * be, x > 88.72 gives +inf and NaN gives NaN.
 *
 * The Cephes recipe: x = n ln2 + r with n = round(x log2 e) and |r| <= ln2 / 2, e^r by a degree-7 polynomial
 * (1 + r + r^2 P5(r), Cephes' minimax coefficients), then 2^n put together from bits. */
static inline float sb_expf(float x) {
    /* Clamping keeps n within what the exponent arithmetic below can represent; e^-120 and e^89 are already 0 and
     * inf in float, so the results do not change. The comparisons are false for NaN, which passes through. */
    x = sb_select(x < -120.0f, -120.0f, x);
    x = sb_select(x > 89.0f, 89.0f, x);
    /* Adding 1.5 * 2^23 rounds to an integer (in the current rounding mode) and leaves that integer in the low
     * mantissa bits: t's bits minus the constant's bits are n. */
    const float round_magic = 12582912.0f;
    const float t = x * 1.44269504088896341f + round_magic;
    const float n = t - round_magic;
    /* r = x - n ln2 in two steps: 0.693359375 has 9 significant bits, so n * it is exact and so is the
     * subtraction (Cody and Waite). */
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    /* 2^n as two normal factors 2^(n/2) 2^(n - n/2), so that n down to -174 still scales correctly and the final
     * product rounds once into the subnormal range. Unsigned arithmetic: no overflow for NaN's garbage bits. */
    const uint32_t ni = sb_float_bits(t) - sb_float_bits(round_magic);
    const uint32_t n1 = (uint32_t)((int32_t)ni >> 1), n2 = ni - n1;
    return p * sb_bits_float((n1 + 127u) << 23) * sb_bits_float((n2 + 127u) << 23);
}

#endif
