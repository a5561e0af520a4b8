/* bf16 <-> f32 for the kernels of bf16.c and bf16_gemm.c: the same conversions as the Java BFloat16 class and the
 * CUDA kernels, written on integers so that loops of them vectorise (no branch, no FP environment). */
#ifndef SB_BF16_H
#define SB_BF16_H

#include "sb_math.h"

#include <stdint.h>

/* The f32 value of the bf16 h: exact. */
static inline float sb_bf16_to_f32(uint16_t h) {
    return sb_bits_float((uint32_t)h << 16);
}

/* The bf16 nearest to f, ties to even; a NaN keeps its sign and top payload bits and becomes quiet. Integer
 * arithmetic only: no flush of subnormals (VCVTNEPS2BF16 would flush them), so that results equal BFloat16's. */
static inline uint16_t sb_f32_to_bf16(float f) {
    const uint32_t u = sb_float_bits(f);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const uint32_t quiet = (u >> 16) | 0x0040u;
    const uint32_t nan = 0u - (uint32_t)((u & 0x7fffffffu) > 0x7f800000u);
    return (uint16_t)((quiet & nan) | (rounded & ~nan));
}

/* f rounded to the nearest bf16, as an f32: what a bf16 operand holds in place of an f32 one. */
static inline float sb_bf16_round(float f) {
    return sb_bf16_to_f32(sb_f32_to_bf16(f));
}

#endif
