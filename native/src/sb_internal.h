/* Shared helpers of the CPU kernels: argument checks, the thread policy and the chunked parallel loop. */
#ifndef SB_INTERNAL_H
#define SB_INTERNAL_H

#include "sbora_native.h"

#include <omp.h>
#include <stddef.h>

/* Hot loops are compiled three times and picked at load time by the CPU they run on (GNU ifunc): the library
 * stays portable to any x86-64 and still uses AVX2 / AVX-512 where present. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SB_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SB_CLONES
#endif

/* Below this many elements of work a kernel runs on the calling thread: waking a team costs more. */
#define SB_PARALLEL_MIN_WORK 65536

/* The calling thread's thread count (sb_set_num_threads; all cores by default). */
int sb_max_threads(void);

/* Threads to use for a kernel touching `work` elements (1 for small work). */
int sb_threads_for(int64_t work);

/* Runs the body (the trailing arguments, so that it may contain commas) over [lo, hi) chunks of [0, n) on up
 * to sb_threads_for(work) threads; chunks are aligned to 16 elements so that each stays on whole cache lines. */
#define SB_PARALLEL_CHUNKS(n, work, lo, hi, ...)                                                                   \
    do {                                                                                                            \
        const int64_t n_ = (n);                                                                                     \
        const int nt_ = sb_threads_for(work);                                                                       \
        if (nt_ <= 1) {                                                                                             \
            const int64_t lo = 0, hi = n_;                                                                          \
            __VA_ARGS__;                                                                                            \
        } else {                                                                                                    \
            _Pragma("omp parallel num_threads(nt_)") {                                                              \
                const int tid_ = omp_get_thread_num(), nth_ = omp_get_num_threads();                                \
                const int64_t lo = ((n_ * tid_ / nth_) + 15) / 16 * 16;                                             \
                int64_t hi = ((n_ * (tid_ + 1) / nth_) + 15) / 16 * 16;                                             \
                if (hi > n_ || tid_ == nth_ - 1) hi = n_;                                                           \
                if (lo < hi) { __VA_ARGS__; }                                                                       \
            }                                                                                                       \
        }                                                                                                           \
    } while (0)

#define SB_CHECK(cond)                                                                                              \
    do {                                                                                                            \
        if (!(cond)) return SB_ERR_ARG;                                                                             \
    } while (0)

/* Every index in idx[0..r) lies in [0, dim). */
int sb_indices_in_range(const int32_t *idx, int64_t r, int64_t dim);

#endif
