/* How many threads the kernels use. The count belongs to the calling thread: each cpu backend sets its own before
 * it calls a kernel, so backends with different counts can run side by side from different Java threads, and no
 * kernel reads a count another thread set. omp_set_num_threads would do the same for OpenMP's own loops, but not
 * for the thresholds below, which need the number too. */
#include "sb_internal.h"

static _Thread_local int sb_threads = 0; /* 0: omp_get_max_threads(), all cores unless OMP_NUM_THREADS says less */

int sb_set_num_threads(int n) {
    sb_threads = n > 0 ? n : 0;
    return SB_OK;
}

int sb_max_threads(void) {
    return sb_threads > 0 ? sb_threads : omp_get_max_threads();
}

int sb_get_num_threads(int *out) {
    SB_CHECK(out != NULL);
    *out = sb_max_threads();
    return SB_OK;
}

int sb_threads_for(int64_t work) {
    if (work < SB_PARALLEL_MIN_WORK) return 1;
    int n = sb_max_threads();
    int64_t useful = work / (SB_PARALLEL_MIN_WORK / 2);
    return (int)(useful < n ? (useful < 1 ? 1 : useful) : n);
}

int sb_indices_in_range(const int32_t *idx, int64_t r, int64_t dim) {
    for (int64_t j = 0; j < r; j++) {
        if (idx[j] < 0 || idx[j] >= dim) return 0;
    }
    return 1;
}
