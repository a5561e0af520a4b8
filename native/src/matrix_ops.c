/* Row and column operations on contiguous row-major matrices (DoRA's row norms and scalings, transposes). */
#include "sb_internal.h"

#include <math.h>

SB_CLONES static float row_norm_one(const float *x, int64_t cols) {
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < cols; j++) s += (double)x[j] * (double)x[j];
    return (float)sqrt(s);
}

int sb_row_norm(const float *x, int64_t rows, int64_t cols, float *out) {
    SB_CHECK(rows >= 0 && cols >= 0);
    if (rows == 0) return SB_OK;
    SB_CHECK(x != NULL && out != NULL);
    SB_PARALLEL_CHUNKS(rows, rows * cols, lo, hi, {
        for (int64_t i = lo; i < hi; i++) out[i] = row_norm_one(x + i * cols, cols);
    });
    return SB_OK;
}

SB_CLONES static void scale_row_one(const float *x, float s, float *out, int64_t cols) {
    for (int64_t j = 0; j < cols; j++) out[j] = x[j] * s;
}

int sb_scale_rows(const float *x, int64_t rows, int64_t cols, const float *s, float *out) {
    SB_CHECK(rows >= 0 && cols >= 0);
    if (rows == 0 || cols == 0) return SB_OK;
    SB_CHECK(x != NULL && s != NULL && out != NULL);
    SB_PARALLEL_CHUNKS(rows, rows * cols, lo, hi, {
        for (int64_t i = lo; i < hi; i++) scale_row_one(x + i * cols, s[i], out + i * cols, cols);
    });
    return SB_OK;
}

SB_CLONES static void scale_cols_one(const float *x, const float *s, float *out, int64_t cols) {
    for (int64_t j = 0; j < cols; j++) out[j] = x[j] * s[j];
}

int sb_scale_cols(const float *x, int64_t rows, int64_t cols, const float *s, float *out) {
    SB_CHECK(rows >= 0 && cols >= 0);
    if (rows == 0 || cols == 0) return SB_OK;
    SB_CHECK(x != NULL && s != NULL && out != NULL);
    SB_PARALLEL_CHUNKS(rows, rows * cols, lo, hi, {
        for (int64_t i = lo; i < hi; i++) scale_cols_one(x + i * cols, s, out + i * cols, cols);
    });
    return SB_OK;
}

/* Columns in blocks of COL_BLOCK with a double accumulator on the stack, streaming the rows once per block. */
#define COL_BLOCK 512

SB_CLONES static void col_dot_block(const float *a, const float *b, int64_t rows, int64_t cols, int64_t j0,
                                    int64_t j1, float *out) {
    double acc[COL_BLOCK];
    const int64_t w = j1 - j0;
    for (int64_t j = 0; j < w; j++) acc[j] = 0.0;
    for (int64_t i = 0; i < rows; i++) {
        const float *ar = a + i * cols + j0, *br = b + i * cols + j0;
        for (int64_t j = 0; j < w; j++) acc[j] += (double)ar[j] * (double)br[j];
    }
    for (int64_t j = 0; j < w; j++) out[j0 + j] = (float)acc[j];
}

int sb_col_dot(const float *a, const float *b, int64_t rows, int64_t cols, float *out) {
    SB_CHECK(rows >= 0 && cols >= 0);
    if (cols == 0) return SB_OK;
    SB_CHECK(a != NULL && b != NULL && out != NULL);
    const int64_t blocks = (cols + COL_BLOCK - 1) / COL_BLOCK;
    const int nt = sb_threads_for(rows * cols);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t blk = 0; blk < blocks; blk++) {
        const int64_t j0 = blk * COL_BLOCK, j1 = j0 + COL_BLOCK < cols ? j0 + COL_BLOCK : cols;
        col_dot_block(a, b, rows, cols, j0, j1, out);
    }
    return SB_OK;
}

#define TILE 32

int sb_transpose(const float *x, int64_t rows, int64_t cols, float *out) {
    SB_CHECK(rows >= 0 && cols >= 0);
    if (rows == 0 || cols == 0) return SB_OK;
    SB_CHECK(x != NULL && out != NULL);
    const int64_t tiles = (rows + TILE - 1) / TILE;
    const int nt = sb_threads_for(rows * cols);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t ti = 0; ti < tiles; ti++) {
        const int64_t i0 = ti * TILE, i1 = i0 + TILE < rows ? i0 + TILE : rows;
        for (int64_t j0 = 0; j0 < cols; j0 += TILE) {
            const int64_t j1 = j0 + TILE < cols ? j0 + TILE : cols;
            for (int64_t i = i0; i < i1; i++)
                for (int64_t j = j0; j < j1; j++) out[j * rows + i] = x[i * cols + j];
        }
    }
    return SB_OK;
}
