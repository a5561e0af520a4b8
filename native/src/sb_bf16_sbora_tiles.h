/* The tile kernels of bf16_sbora.c, included once per target: the includer defines SBB_SUF (the suffix of the
 * function names), SBB_TARGET (a target attribute, or nothing) and SBB_MADD(a, b, c) (a * b + c, fused where the
 * target has FMA). No include guard, on purpose. */

#define SBB_CAT_(a, b) a##_##b
#define SBB_CAT(a, b) SBB_CAT_(a, b)
#define SBB_NAME(f) SBB_CAT(f, SBB_SUF)

/* c[i, j] = c[i, j] + alpha * t[i, j] rounded to bf16, for rows i < mr of a block of columns: the sums of a row of
 * tiles added to c, up to GT_NC columns at a time. Out of line: as a loop over one tile inside gather_rows, GCC
 * left the conversions scalar. */
SBB_TARGET __attribute__((noinline)) static void SBB_NAME(add_rows)(uint16_t *c, int64_t ldc, const float *t,
                                                                    int64_t ldt, int64_t mr, int64_t nc,
                                                                    float alpha) {
    for (int64_t i = 0; i < mr; i++) {
        uint16_t *cr = c + i * ldc;
        const float *tr = t + i * ldt;
        for (int64_t j = 0; j < nc; j++) cr[j] = sb_f32_to_bf16(SBB_MADD(alpha, tr[j], sb_bf16_to_f32(cr[j])));
    }
}

SBB_TARGET static void SBB_NAME(gather_rows)(const uint16_t *x, int64_t ldx, const int32_t *idx, int64_t r,
                                             const float *fw, int64_t ldw, int64_t n, float alpha, uint16_t *c,
                                             int64_t ldc, uint16_t *xs, int64_t ldxs, int64_t lo, int64_t hi) {
    float xg[GT_MR][GT_KP];
    float sums[GT_MR][GT_NC];
    const int one_pass = r <= GT_KP; /* else the gathered values are taken GT_KP at a time for each tile */
    for (int64_t i = lo; i < hi; i += GT_MR) {
        const int64_t mr = min64(GT_MR, hi - i);
        if (xs != NULL) {
            for (int64_t ii = 0; ii < mr; ii++)
                for (int64_t k = 0; k < r; k++) xs[(i + ii) * ldxs + k] = x[(i + ii) * ldx + idx[k]];
        }
        if (one_pass) gather_block(x, ldx, idx, i, mr, 0, r, xg);
        for (int64_t jc = 0; jc < n; jc += GT_NC) {
            const int64_t ncs = min64(GT_NC, n - jc);
            for (int64_t j0 = 0; j0 < ncs; j0 += GT_NR) {
                float acc[GT_MR][GT_NV][16];
                SBB_UNROLL
                for (int ii = 0; ii < GT_MR; ii++) {
                    SBB_UNROLL
                    for (int v = 0; v < GT_NV; v++) SBB_LANES(l) acc[ii][v][l] = 0.0f;
                }
                for (int64_t k0 = 0; k0 < r; k0 += GT_KP) {
                    const int64_t kp = min64(GT_KP, r - k0);
                    if (!one_pass) gather_block(x, ldx, idx, i, mr, k0, kp, xg);
                    for (int64_t k = 0; k < kp; k++) {
                        const float *fr = fw + (k0 + k) * ldw + jc + j0;
                        SBB_UNROLL
                        for (int ii = 0; ii < GT_MR; ii++) {
                            const float xv = xg[ii][k];
                            SBB_UNROLL
                            for (int v = 0; v < GT_NV; v++)
                                SBB_LANES(l) acc[ii][v][l] = SBB_MADD(xv, fr[v * 16 + l], acc[ii][v][l]);
                        }
                    }
                }
                SBB_UNROLL
                for (int ii = 0; ii < GT_MR; ii++) {
                    SBB_UNROLL
                    for (int v = 0; v < GT_NV; v++) SBB_LANES(l) sums[ii][j0 + v * 16 + l] = acc[ii][v][l];
                }
            }
            SBB_NAME(add_rows)(c + i * ldc + jc, ldc, &sums[0][0], GT_NC, mr, ncs, alpha);
        }
    }
}

SBB_TARGET static void SBB_NAME(scatter_rows)(const uint16_t *a, int64_t kdim, int64_t lda, const float *fw,
                                              int64_t ldw, const int32_t *idx, int64_t r, float alpha, uint16_t *c,
                                              int64_t ldc, int64_t lo, int64_t hi) {
    float ab[ST_MR][ST_KC];
    for (int64_t i = lo; i < hi; i += ST_MR) {
        const int64_t mr = min64(ST_MR, hi - i);
        for (int64_t j0 = 0; j0 < r; j0 += 16) {
            float acc[ST_MR][16];
            SBB_UNROLL
            for (int ii = 0; ii < ST_MR; ii++) SBB_LANES(l) acc[ii][l] = 0.0f;
            for (int64_t k0 = 0; k0 < kdim; k0 += ST_KC) {
                const int64_t kc = min64(ST_KC, kdim - k0);
                for (int64_t ii = 0; ii < ST_MR; ii++) {
                    if (ii < mr) {
                        const uint16_t *ar = a + (i + ii) * lda + k0;
                        for (int64_t k = 0; k < kc; k++) ab[ii][k] = sb_bf16_to_f32(ar[k]);
                    } else {
                        for (int64_t k = 0; k < kc; k++) ab[ii][k] = 0.0f;
                    }
                }
                for (int64_t k = 0; k < kc; k++) {
                    const float *fr = fw + (k0 + k) * ldw + j0;
                    SBB_UNROLL
                    for (int ii = 0; ii < ST_MR; ii++) {
                        const float av = ab[ii][k];
                        SBB_LANES(l) acc[ii][l] = SBB_MADD(av, fr[l], acc[ii][l]);
                    }
                }
            }
            const int64_t jc = min64(16, r - j0);
            for (int64_t ii = 0; ii < mr; ii++) {
                uint16_t *cr = c + (i + ii) * ldc;
                for (int64_t jj = 0; jj < jc; jj++) {
                    const int32_t col = idx[j0 + jj];
                    cr[col] = sb_f32_to_bf16(SBB_MADD(alpha, acc[ii][jj], sb_bf16_to_f32(cr[col])));
                }
            }
        }
    }
}

#undef SBB_NAME
#undef SBB_CAT
#undef SBB_CAT_
