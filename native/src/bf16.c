/* bf16 kernels (sbora_native.h, "bf16"): conversions, element-wise operations, reductions, gathers and index-adds
 * over f32 or bf16 arrays, and the two pieces a GEMM with bf16 operands needs around cblas_sgemm (the bf16 values
 * of a tile widened to f32, and the f32 product stored into c's type).
 *
 * Every result is computed in f32 exactly as the reference backend computes it in Java (the same IEEE operations in
 * the same order: -ffp-contract=off) and rounded once per stored element by sb_f32_to_bf16 (sb_bf16.h), so the
 * two agree bit for bit. Where every array is f32, each function calls the f32 kernel of the same name. */
#include "sb_bf16.h"
#include "sb_internal.h"

#include <string.h>

static int type_ok(int t) { return t == SB_F32 || t == SB_BF16; }

static size_t type_size(int t) { return t == SB_BF16 ? sizeof(uint16_t) : sizeof(float); }

/* Element access by type, for the macros below: a load gives the f32 value, a store rounds once. */
#define LD_F32(p, i) ((p)[i])
#define LD_BF16(p, i) sb_bf16_to_f32((p)[i])
#define ST_F32(p, i, v) ((p)[i] = (v))
#define ST_BF16(p, i, v) ((p)[i] = sb_f32_to_bf16(v))
#define T_F32 float
#define T_BF16 uint16_t

/* ---------------------------------------------------------------- conversions */

SB_CLONES static void f32_to_bf16_chunk(const float *x, uint16_t *out, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) out[i] = sb_f32_to_bf16(x[i]);
}

SB_CLONES static void bf16_to_f32_chunk(const uint16_t *x, float *out, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) out[i] = sb_bf16_to_f32(x[i]);
}

int sb_convert(const void *x, int xtype, void *out, int otype, int64_t n) {
    SB_CHECK(n >= 0 && type_ok(xtype) && type_ok(otype));
    if (n == 0) return SB_OK;
    SB_CHECK(x != NULL && out != NULL);
    if (xtype == otype) {
        const size_t es = type_size(xtype);
        SB_PARALLEL_CHUNKS(n, n, lo, hi, memmove((char *)out + lo * es, (const char *)x + lo * es, (hi - lo) * es));
    } else if (xtype == SB_F32) {
        SB_PARALLEL_CHUNKS(n, n, lo, hi, f32_to_bf16_chunk((const float *)x, (uint16_t *)out, lo, hi));
    } else {
        SB_PARALLEL_CHUNKS(n, n, lo, hi, bf16_to_f32_chunk((const uint16_t *)x, (float *)out, lo, hi));
    }
    return SB_OK;
}

/* ---------------------------------------------------------------- element-wise */

SB_CLONES static void fill_bf16_chunk(uint16_t *x, uint16_t v, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) x[i] = v;
}

int sb_fill_t(void *x, int type, int64_t n, float value) {
    SB_CHECK(n >= 0 && type_ok(type));
    if (type == SB_F32) return sb_fill((float *)x, n, value);
    if (n == 0) return SB_OK;
    SB_CHECK(x != NULL);
    const uint16_t v = sb_f32_to_bf16(value);
    SB_PARALLEL_CHUNKS(n, n, lo, hi, fill_bf16_chunk((uint16_t *)x, v, lo, hi));
    return SB_OK;
}

#define BINARY_BF16(name, op)                                                                                       \
    SB_CLONES static void name##_bf16_chunk(const uint16_t *a, const uint16_t *b, uint16_t *out, int64_t lo,         \
                                            int64_t hi) {                                                           \
        for (int64_t i = lo; i < hi; i++) out[i] = sb_f32_to_bf16(sb_bf16_to_f32(a[i]) op sb_bf16_to_f32(b[i]));    \
    }

BINARY_BF16(add, +)
BINARY_BF16(sub, -)
BINARY_BF16(mul, *)
BINARY_BF16(div, /)

int sb_binary_t(int op, const void *a, const void *b, int type, int64_t n, void *out) {
    SB_CHECK(n >= 0 && type_ok(type) && op >= SB_OP_ADD && op <= SB_OP_DIV);
    if (type == SB_F32) {
        const float *fa = (const float *)a, *fb = (const float *)b;
        float *fo = (float *)out;
        switch (op) {
        case SB_OP_ADD: return sb_add(fa, fb, n, fo);
        case SB_OP_SUB: return sb_sub(fa, fb, n, fo);
        case SB_OP_MUL: return sb_mul(fa, fb, n, fo);
        default: return sb_div(fa, fb, n, fo);
        }
    }
    if (n == 0) return SB_OK;
    SB_CHECK(a != NULL && b != NULL && out != NULL);
    const uint16_t *ha = (const uint16_t *)a, *hb = (const uint16_t *)b;
    uint16_t *ho = (uint16_t *)out;
    switch (op) {
    case SB_OP_ADD: SB_PARALLEL_CHUNKS(n, n, lo, hi, add_bf16_chunk(ha, hb, ho, lo, hi)); break;
    case SB_OP_SUB: SB_PARALLEL_CHUNKS(n, n, lo, hi, sub_bf16_chunk(ha, hb, ho, lo, hi)); break;
    case SB_OP_MUL: SB_PARALLEL_CHUNKS(n, n, lo, hi, mul_bf16_chunk(ha, hb, ho, lo, hi)); break;
    default: SB_PARALLEL_CHUNKS(n, n, lo, hi, div_bf16_chunk(ha, hb, ho, lo, hi)); break;
    }
    return SB_OK;
}

SB_CLONES static void scale_bf16_chunk(const uint16_t *x, float s, uint16_t *out, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) out[i] = sb_f32_to_bf16(sb_bf16_to_f32(x[i]) * s);
}

int sb_scale_t(const void *x, int type, int64_t n, float s, void *out) {
    SB_CHECK(n >= 0 && type_ok(type));
    if (type == SB_F32) return sb_scale((const float *)x, n, s, (float *)out);
    if (n == 0) return SB_OK;
    SB_CHECK(x != NULL && out != NULL);
    SB_PARALLEL_CHUNKS(n, n, lo, hi, scale_bf16_chunk((const uint16_t *)x, s, (uint16_t *)out, lo, hi));
    return SB_OK;
}

/* y = y + alpha * x: the product rounded to f32, then the sum rounded to y's type (Java's y + alpha * x). */
#define AXPY_CHUNK(XS, YS)                                                                                          \
    SB_CLONES static void axpy_##XS##_##YS(float alpha, const T_##XS *x, T_##YS *y, int64_t lo, int64_t hi) {       \
        for (int64_t i = lo; i < hi; i++) {                                                                         \
            const float v = LD_##YS(y, i) + alpha * LD_##XS(x, i);                                                  \
            ST_##YS(y, i, v);                                                                                       \
        }                                                                                                           \
    }

AXPY_CHUNK(BF16, F32)
AXPY_CHUNK(F32, BF16)
AXPY_CHUNK(BF16, BF16)

int sb_axpy_t(int64_t n, float alpha, const void *x, int xtype, void *y, int ytype) {
    SB_CHECK(n >= 0 && type_ok(xtype) && type_ok(ytype));
    if (xtype == SB_F32 && ytype == SB_F32) return sb_axpy(n, alpha, (const float *)x, (float *)y);
    if (n == 0) return SB_OK;
    SB_CHECK(x != NULL && y != NULL);
    if (ytype == SB_F32) {
        SB_PARALLEL_CHUNKS(n, n, lo, hi, axpy_BF16_F32(alpha, (const uint16_t *)x, (float *)y, lo, hi));
    } else if (xtype == SB_F32) {
        SB_PARALLEL_CHUNKS(n, n, lo, hi, axpy_F32_BF16(alpha, (const float *)x, (uint16_t *)y, lo, hi));
    } else {
        SB_PARALLEL_CHUNKS(n, n, lo, hi, axpy_BF16_BF16(alpha, (const uint16_t *)x, (uint16_t *)y, lo, hi));
    }
    return SB_OK;
}

/* ---------------------------------------------------------------- reductions */

/* Blocks of RED_BLOCK elements, summed (in double) each on one thread, then added in block order: the result
 * depends on the input only, not on the thread count. RED_SUPER blocks at a time keep the partial sums on the
 * stack. */
#define RED_BLOCK 65536
#define RED_SUPER 256

SB_CLONES static double sum_bf16_block(const uint16_t *x, int64_t lo, int64_t hi) {
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = lo; i < hi; i++) s += (double)sb_bf16_to_f32(x[i]);
    return s;
}

SB_CLONES static int64_t nonfinite_bf16_block(const uint16_t *x, int64_t lo, int64_t hi) {
    int64_t c = 0;
#pragma omp simd reduction(+ : c)
    for (int64_t i = lo; i < hi; i++) c += (x[i] & 0x7f80u) == 0x7f80u; /* exponent all ones: inf or NaN */
    return c;
}

#define REDUCE_BLOCKS(n, type, result, block_call)                                                                  \
    do {                                                                                                            \
        type total_ = 0;                                                                                            \
        for (int64_t s0_ = 0; s0_ < (n); s0_ += (int64_t)RED_BLOCK * RED_SUPER) {                                   \
            const int64_t len_ = (n) - s0_ < (int64_t)RED_BLOCK * RED_SUPER ? (n) - s0_ : (int64_t)RED_BLOCK * RED_SUPER; \
            const int64_t nb_ = (len_ + RED_BLOCK - 1) / RED_BLOCK;                                                 \
            type part_[RED_SUPER];                                                                                  \
            SB_PARALLEL_CHUNKS(nb_, len_, blo_, bhi_, {                                                             \
                for (int64_t b_ = blo_; b_ < bhi_; b_++) {                                                          \
                    const int64_t lo = s0_ + b_ * RED_BLOCK;                                                        \
                    const int64_t hi = lo + RED_BLOCK < s0_ + len_ ? lo + RED_BLOCK : s0_ + len_;                   \
                    part_[b_] = block_call;                                                                         \
                }                                                                                                   \
            });                                                                                                     \
            for (int64_t b_ = 0; b_ < nb_; b_++) total_ += part_[b_];                                               \
        }                                                                                                           \
        result = total_;                                                                                            \
    } while (0)

int sb_sum_t(const void *x, int type, int64_t n, double *out) {
    SB_CHECK(n >= 0 && out != NULL && type_ok(type));
    if (type == SB_F32) return sb_sum((const float *)x, n, out);
    SB_CHECK(n == 0 || x != NULL);
    REDUCE_BLOCKS(n, double, *out, sum_bf16_block((const uint16_t *)x, lo, hi));
    return SB_OK;
}

int sb_count_nonfinite_t(const void *x, int type, int64_t n, int64_t *out) {
    SB_CHECK(n >= 0 && out != NULL && type_ok(type));
    if (type == SB_F32) return sb_count_nonfinite((const float *)x, n, out);
    SB_CHECK(n == 0 || x != NULL);
    REDUCE_BLOCKS(n, int64_t, *out, nonfinite_bf16_block((const uint16_t *)x, lo, hi));
    return SB_OK;
}

/* ---------------------------------------------------------------- gathers and index-adds */

static void gather_cols_bf16(const uint16_t *x, int64_t ldx, const int32_t *idx, int64_t r, uint16_t *out,
                             int64_t ldo, int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; t++) {
        const uint16_t *xr = x + t * ldx;
        uint16_t *o = out + t * ldo;
        for (int64_t j = 0; j < r; j++) o[j] = xr[idx[j]];
    }
}

int sb_gather_cols_t(const void *x, int type, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx,
                     int64_t r, void *out, int64_t ldo) {
    SB_CHECK(type_ok(type));
    if (type == SB_F32) return sb_gather_cols((const float *)x, rows, cols, ldx, idx, r, (float *)out, ldo);
    SB_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldx >= cols && ldo >= r);
    if (rows == 0 || r == 0) return SB_OK;
    SB_CHECK(x != NULL && idx != NULL && out != NULL);
    if (!sb_indices_in_range(idx, r, cols)) return SB_ERR_INDEX;
    SB_PARALLEL_CHUNKS(rows, rows * r, lo, hi,
                       gather_cols_bf16((const uint16_t *)x, ldx, idx, r, (uint16_t *)out, ldo, lo, hi));
    return SB_OK;
}

int sb_gather_rows_t(const void *x, int type, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx,
                     int64_t r, void *out, int64_t ldo) {
    SB_CHECK(type_ok(type));
    if (type == SB_F32) return sb_gather_rows((const float *)x, rows, cols, ldx, idx, r, (float *)out, ldo);
    SB_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldx >= cols && ldo >= cols);
    if (r == 0 || cols == 0) return SB_OK;
    SB_CHECK(x != NULL && idx != NULL && out != NULL);
    if (!sb_indices_in_range(idx, r, rows)) return SB_ERR_INDEX;
    const uint16_t *hx = (const uint16_t *)x;
    uint16_t *ho = (uint16_t *)out;
    SB_PARALLEL_CHUNKS(r, r * cols, lo, hi, {
        for (int64_t j = lo; j < hi; j++) memcpy(ho + j * ldo, hx + (int64_t)idx[j] * ldx, (size_t)cols * 2);
    });
    return SB_OK;
}

/* dst[t, idx[j]] = dst + alpha * src[t, j], rounded to dst's type; indices distinct. */
#define INDEX_ADD_COLS(DS, SS)                                                                                      \
    SB_CLONES static void iac_##DS##_##SS(T_##DS *dst, int64_t ldd, const int32_t *idx, int64_t r,                  \
                                          const T_##SS *src, int64_t lds, float alpha, int64_t lo, int64_t hi) {     \
        for (int64_t t = lo; t < hi; t++) {                                                                         \
            T_##DS *d = dst + t * ldd;                                                                              \
            const T_##SS *s = src + t * lds;                                                                        \
            for (int64_t j = 0; j < r; j++) {                                                                       \
                const float v = LD_##DS(d, idx[j]) + alpha * LD_##SS(s, j);                                          \
                ST_##DS(d, idx[j], v);                                                                              \
            }                                                                                                       \
        }                                                                                                           \
    }

INDEX_ADD_COLS(BF16, F32)
INDEX_ADD_COLS(F32, BF16)
INDEX_ADD_COLS(BF16, BF16)

int sb_index_add_cols_t(void *dst, int dtype, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                        const void *src, int stype, int64_t lds, float alpha) {
    SB_CHECK(type_ok(dtype) && type_ok(stype));
    if (dtype == SB_F32 && stype == SB_F32)
        return sb_index_add_cols((float *)dst, rows, cols, ldd, idx, r, (const float *)src, lds, alpha);
    SB_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldd >= cols && lds >= r);
    if (rows == 0 || r == 0) return SB_OK;
    SB_CHECK(dst != NULL && idx != NULL && src != NULL);
    if (!sb_indices_in_range(idx, r, cols)) return SB_ERR_INDEX;
    if (stype == SB_F32) {
        SB_PARALLEL_CHUNKS(rows, rows * r, lo, hi,
                           iac_BF16_F32((uint16_t *)dst, ldd, idx, r, (const float *)src, lds, alpha, lo, hi));
    } else if (dtype == SB_F32) {
        SB_PARALLEL_CHUNKS(rows, rows * r, lo, hi,
                           iac_F32_BF16((float *)dst, ldd, idx, r, (const uint16_t *)src, lds, alpha, lo, hi));
    } else {
        SB_PARALLEL_CHUNKS(rows, rows * r, lo, hi,
                           iac_BF16_BF16((uint16_t *)dst, ldd, idx, r, (const uint16_t *)src, lds, alpha, lo, hi));
    }
    return SB_OK;
}

/* Split over columns like sb_index_add_rows: each thread adds all r source rows in order, so that repeated indices
 * accumulate (each addition rounded to dst's type, as the reference does). */
int sb_index_add_rows_t(void *dst, int dtype, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                        const void *src, int stype, int64_t lds, float alpha) {
    SB_CHECK(type_ok(dtype) && type_ok(stype));
    if (dtype == SB_F32 && stype == SB_F32)
        return sb_index_add_rows((float *)dst, rows, cols, ldd, idx, r, (const float *)src, lds, alpha);
    SB_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldd >= cols && lds >= cols);
    if (r == 0 || cols == 0) return SB_OK;
    SB_CHECK(dst != NULL && idx != NULL && src != NULL);
    if (!sb_indices_in_range(idx, r, rows)) return SB_ERR_INDEX;
    const size_t des = type_size(dtype), ses = type_size(stype);
    SB_PARALLEL_CHUNKS(cols, r * cols, lo, hi, {
        for (int64_t j = 0; j < r; j++) {
            char *d = (char *)dst + ((int64_t)idx[j] * ldd + lo) * (int64_t)des;
            const char *s = (const char *)src + (j * lds + lo) * (int64_t)ses;
            if (stype == SB_F32)
                axpy_F32_BF16(alpha, (const float *)s, (uint16_t *)d, 0, hi - lo);
            else if (dtype == SB_F32)
                axpy_BF16_F32(alpha, (const uint16_t *)s, (float *)d, 0, hi - lo);
            else
                axpy_BF16_BF16(alpha, (const uint16_t *)s, (uint16_t *)d, 0, hi - lo);
        }
    });
    return SB_OK;
}

/* ---------------------------------------------------------------- GEMM tiles */

SB_CLONES static void panel_bf16_rows(const uint16_t *x, int64_t cols, int64_t ldx, float *out, int64_t ldo,
                                      int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) {
        const uint16_t *xr = x + i * ldx;
        float *o = out + i * ldo;
        for (int64_t j = 0; j < cols; j++) o[j] = sb_bf16_to_f32(xr[j]);
    }
}

SB_CLONES static void panel_f32_rows(const float *x, int64_t cols, int64_t ldx, float *out, int64_t ldo, int64_t lo,
                                     int64_t hi) {
    for (int64_t i = lo; i < hi; i++) {
        const float *xr = x + i * ldx;
        float *o = out + i * ldo;
        for (int64_t j = 0; j < cols; j++) o[j] = sb_bf16_round(xr[j]);
    }
}

int sb_bf16_panel(const void *x, int xtype, int64_t rows, int64_t cols, int64_t ldx, float *out, int64_t ldo) {
    SB_CHECK(type_ok(xtype) && rows >= 0 && cols >= 0 && ldx >= cols && ldo >= cols);
    if (rows == 0 || cols == 0) return SB_OK;
    SB_CHECK(x != NULL && out != NULL);
    if (xtype == SB_BF16) {
        SB_PARALLEL_CHUNKS(rows, rows * cols, lo, hi,
                           panel_bf16_rows((const uint16_t *)x, cols, ldx, out, ldo, lo, hi));
    } else {
        SB_PARALLEL_CHUNKS(rows, rows * cols, lo, hi, panel_f32_rows((const float *)x, cols, ldx, out, ldo, lo, hi));
    }
    return SB_OK;
}

/* c = t + beta * c (c not read when beta is 0), rounded to c's type. */
#define STORE_ROWS(CS)                                                                                              \
    SB_CLONES static void store_rows_##CS(const float *t, int64_t cols, int64_t ldt, float beta, T_##CS *c,          \
                                          int64_t ldc, int64_t lo, int64_t hi) {                                    \
        for (int64_t i = lo; i < hi; i++) {                                                                         \
            const float *tr = t + i * ldt;                                                                          \
            T_##CS *cr = c + i * ldc;                                                                               \
            if (beta == 0.0f) {                                                                                     \
                for (int64_t j = 0; j < cols; j++) ST_##CS(cr, j, tr[j]);                                           \
            } else {                                                                                                \
                for (int64_t j = 0; j < cols; j++) {                                                                \
                    const float v = tr[j] + beta * LD_##CS(cr, j);                                                  \
                    ST_##CS(cr, j, v);                                                                              \
                }                                                                                                   \
            }                                                                                                       \
        }                                                                                                           \
    }

STORE_ROWS(F32)
STORE_ROWS(BF16)

int sb_store_t(const float *t, int64_t rows, int64_t cols, int64_t ldt, float beta, void *c, int ctype, int64_t ldc) {
    SB_CHECK(type_ok(ctype) && rows >= 0 && cols >= 0 && ldt >= cols && ldc >= cols);
    if (rows == 0 || cols == 0) return SB_OK;
    SB_CHECK(t != NULL && c != NULL);
    if (ctype == SB_BF16) {
        SB_PARALLEL_CHUNKS(rows, rows * cols, lo, hi, store_rows_BF16(t, cols, ldt, beta, (uint16_t *)c, ldc, lo, hi));
    } else {
        SB_PARALLEL_CHUNKS(rows, rows * cols, lo, hi, store_rows_F32(t, cols, ldt, beta, (float *)c, ldc, lo, hi));
    }
    return SB_OK;
}
