/* The one piece of global state of the library: how many threads kernels may use. A process-wide value rather
 * than omp_set_num_threads, whose setting is per calling thread and would not reach kernels called from other
 * Java threads. */
#include "sb_internal.h"

static int sb_threads = 0; /* 0: all cores */

int sb_set_num_threads(int n) {
    __atomic_store_n(&sb_threads, n > 0 ? n : 0, __ATOMIC_RELAXED);
    return SB_OK;
}

int sb_get_num_threads(int *out) {
    SB_CHECK(out != NULL);
    int n = __atomic_load_n(&sb_threads, __ATOMIC_RELAXED);
    *out = n > 0 ? n : omp_get_num_procs();
    return SB_OK;
}

int sb_threads_for(int64_t work) {
    if (work < SB_PARALLEL_MIN_WORK) return 1;
    int n = __atomic_load_n(&sb_threads, __ATOMIC_RELAXED);
    if (n <= 0) n = omp_get_num_procs();
    int64_t useful = work / (SB_PARALLEL_MIN_WORK / 2);
    return (int)(useful < n ? (useful < 1 ? 1 : useful) : n);
}

int sb_indices_in_range(const int32_t *idx, int64_t r, int64_t dim) {
    for (int64_t j = 0; j < r; j++) {
        if (idx[j] < 0 || idx[j] >= dim) return 0;
    }
    return 1;
}
