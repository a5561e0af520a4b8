/* Checks sb_attention_forward / sb_attention_backward against a plain reference over awkward shapes, measures the
 * vectorised exp against libm, then times both passes against the reference.
 *
 *   cmake -S . -B build -DSBORA_NATIVE_BENCH=ON && cmake --build build --target attention_bench
 *   build/attention_bench [threads...]          (default: 1 2)
 *
 * Environment: SB_BENCH_REF_MAX_SEQ (default 2048) caps the sequence length at which the slow reference is timed;
 * SB_BENCH_MIN_SEQ and SB_BENCH_MAX_SEQ (default 128 and 4096) bound the sequence lengths timed at all. */
#include "sbora_native.h"
#include "../src/sb_math.h"

#include <float.h>
#include <omp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the reference: the library's kernels before the tiled rewrite, one (batch, head) or (batch, kv head) per
 * loop iteration, every score a plain dot product ---- */

static float dotf(const float *a, const float *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void ref_forward(const float *q, const float *k, const float *v, int64_t batch, int64_t seq, int64_t heads,
                        int64_t kv_heads, int64_t head_dim, float scale, float *out, float *lse) {
    const int64_t qw = heads * head_dim, kw = kv_heads * head_dim, group = heads / kv_heads;
    const int64_t tasks = batch * heads;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t task = 0; task < tasks; task++) {
        const int64_t b = task / heads, h = task % heads, g = h / group;
        for (int64_t t = 0; t < seq; t++) {
            const float *qt = q + (b * seq + t) * qw + h * head_dim;
            float *o = out + (b * seq + t) * qw + h * head_dim;
            float m = -INFINITY;
            for (int64_t u = 0; u <= t; u++) {
                const float s = dotf(qt, k + (b * seq + u) * kw + g * head_dim, head_dim) * scale;
                m = s > m ? s : m;
            }
            for (int64_t j = 0; j < head_dim; j++) o[j] = 0.0f;
            double l = 0.0;
            for (int64_t u = 0; u <= t; u++) {
                const float s = dotf(qt, k + (b * seq + u) * kw + g * head_dim, head_dim) * scale;
                const float p = expf(s - m);
                l += p;
                const float *vu = v + (b * seq + u) * kw + g * head_dim;
                for (int64_t j = 0; j < head_dim; j++) o[j] += p * vu[j];
            }
            const float inv = (float)(1.0 / l);
            for (int64_t j = 0; j < head_dim; j++) o[j] *= inv;
            lse[(b * heads + h) * seq + t] = m + (float)log(l);
        }
    }
}

static void ref_backward(const float *q, const float *k, const float *v, const float *out, const float *lse,
                         const float *dout, int64_t batch, int64_t seq, int64_t heads, int64_t kv_heads,
                         int64_t head_dim, float scale, float *dq, float *dk, float *dv) {
    const int64_t qw = heads * head_dim, kw = kv_heads * head_dim, group = heads / kv_heads;
    const int64_t tasks = batch * kv_heads;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t task = 0; task < tasks; task++) {
        const int64_t b = task / kv_heads, g = task % kv_heads;
        for (int64_t u = 0; u < seq; u++) {
            float *dku = dk + (b * seq + u) * kw + g * head_dim, *dvu = dv + (b * seq + u) * kw + g * head_dim;
            for (int64_t j = 0; j < head_dim; j++) dku[j] = dvu[j] = 0.0f;
        }
        for (int64_t h = g * group; h < (g + 1) * group; h++) {
            for (int64_t t = 0; t < seq; t++) {
                const int64_t row = (b * seq + t) * qw + h * head_dim;
                const float *qt = q + row, *ot = out + row, *dot_ = dout + row;
                float *dqt = dq + row;
                const float l = lse[(b * heads + h) * seq + t];
                const float dsum = dotf(dot_, ot, head_dim);
                for (int64_t j = 0; j < head_dim; j++) dqt[j] = 0.0f;
                for (int64_t u = 0; u <= t; u++) {
                    const float *ku = k + (b * seq + u) * kw + g * head_dim;
                    const float *vu = v + (b * seq + u) * kw + g * head_dim;
                    float *dku = dk + (b * seq + u) * kw + g * head_dim, *dvu = dv + (b * seq + u) * kw + g * head_dim;
                    const float p = expf(dotf(qt, ku, head_dim) * scale - l);
                    const float ds = p * (dotf(dot_, vu, head_dim) - dsum) * scale;
                    for (int64_t j = 0; j < head_dim; j++) {
                        dvu[j] += p * dot_[j];
                        dqt[j] += ds * ku[j];
                        dku[j] += ds * qt[j];
                    }
                }
            }
        }
    }
}

/* ---- helpers ---- */

typedef struct {
    int64_t batch, seq, heads, kv_heads, head_dim;
} shape;

typedef struct {
    size_t nq, nk, nl;
    float *q, *k, *v, *dout, *out, *lse, *dq, *dk, *dv;       /* the library's */
    float *out_r, *lse_r, *dq_r, *dk_r, *dv_r;                /* the reference's */
} buffers;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float uniform(void) { /* [-1, 1) */
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) * 0x1p-24 * 2.0 - 1.0);
}

static float *floats(size_t n, int random) {
    float *x = malloc((n ? n : 1) * sizeof *x);
    if (!x) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++) x[i] = random ? uniform() : NAN; /* NaN: any element left unwritten shows */
    return x;
}

static buffers alloc_buffers(shape s) {
    buffers x;
    x.nq = (size_t)(s.batch * s.seq * s.heads * s.head_dim);
    x.nk = (size_t)(s.batch * s.seq * s.kv_heads * s.head_dim);
    x.nl = (size_t)(s.batch * s.heads * s.seq);
    x.q = floats(x.nq, 1), x.k = floats(x.nk, 1), x.v = floats(x.nk, 1), x.dout = floats(x.nq, 1);
    x.out = floats(x.nq, 0), x.lse = floats(x.nl, 0), x.dq = floats(x.nq, 0), x.dk = floats(x.nk, 0);
    x.dv = floats(x.nk, 0);
    x.out_r = floats(x.nq, 0), x.lse_r = floats(x.nl, 0), x.dq_r = floats(x.nq, 0), x.dk_r = floats(x.nk, 0);
    x.dv_r = floats(x.nk, 0);
    return x;
}

static void free_buffers(buffers *x) {
    float *all[] = {x->q, x->k, x->v, x->dout, x->out, x->lse, x->dq, x->dk, x->dv,
                    x->out_r, x->lse_r, x->dq_r, x->dk_r, x->dv_r};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]);
}

/* Largest |got - want| / max(1, |want|), the measure of the Java tests (NaN counts as infinitely wrong). */
static double max_err(const float *want, const float *got, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)got[i] - want[i]) / fmax(1.0, fabs(want[i]));
        if (!(d <= e)) e = isnan(d) ? INFINITY : d;
    }
    return e;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- correctness ---- */

static int check_shapes(void) {
    const shape shapes[] = {
        {1, 1, 1, 1, 1},    {2, 13, 4, 2, 40},  {1, 5, 2, 2, 33},    {1, 3, 2, 1, 800},   {1, 2, 1, 1, 1600},
        {1, 33, 3, 1, 16},  {3, 17, 6, 2, 9},   {1, 63, 2, 1, 64},   {1, 64, 2, 2, 64},   {1, 65, 4, 2, 7},
        {2, 100, 4, 4, 9},  {1, 129, 2, 1, 128}, {1, 300, 8, 2, 64}, {1, 200, 3, 3, 130}, {1, 77, 6, 2, 200},
        {1, 150, 2, 2, 257}, {1, 1, 4, 1, 64},  {2, 257, 2, 1, 24},   {1, 2048, 2, 1, 64}, {1, 1000, 2, 2, 128},
    };
    int failures = 0;
    printf("correctness against the reference (max |err| / max(1, |ref|); Java tests allow 1e-5 fwd, 1e-4 bwd)\n");
    for (size_t n = 0; n < sizeof shapes / sizeof *shapes; n++) {
        const shape s = shapes[n];
        buffers x = alloc_buffers(s);
        const float scale = 1.0f / sqrtf((float)s.head_dim);
        int rc = sb_attention_forward(x.q, x.k, x.v, s.batch, s.seq, s.heads, s.kv_heads, s.head_dim, scale, x.out,
                                      x.lse);
        ref_forward(x.q, x.k, x.v, s.batch, s.seq, s.heads, s.kv_heads, s.head_dim, scale, x.out_r, x.lse_r);
        /* Both backwards from the reference's forward, so that only the backward differs. */
        rc |= sb_attention_backward(x.q, x.k, x.v, x.out_r, x.lse_r, x.dout, s.batch, s.seq, s.heads, s.kv_heads,
                                    s.head_dim, scale, x.dq, x.dk, x.dv);
        ref_backward(x.q, x.k, x.v, x.out_r, x.lse_r, x.dout, s.batch, s.seq, s.heads, s.kv_heads, s.head_dim, scale,
                     x.dq_r, x.dk_r, x.dv_r);
        const double eo = max_err(x.out_r, x.out, x.nq), el = max_err(x.lse_r, x.lse, x.nl);
        const double eq = max_err(x.dq_r, x.dq, x.nq), ek = max_err(x.dk_r, x.dk, x.nk);
        const double ev = max_err(x.dv_r, x.dv, x.nk);
        const int ok = rc == SB_OK && eo <= 1e-5 && el <= 1e-5 && eq <= 1e-4 && ek <= 1e-4 && ev <= 1e-4;
        failures += !ok;
        printf("  %s b=%lld seq=%4lld h=%lld kv=%lld d=%4lld  out %.1e lse %.1e dq %.1e dk %.1e dv %.1e\n",
               ok ? "ok  " : "FAIL", (long long)s.batch, (long long)s.seq, (long long)s.heads, (long long)s.kv_heads,
               (long long)s.head_dim, eo, el, eq, ek, ev);
        free_buffers(&x);
    }
    return failures;
}

/* Relative error of sb_expf against exp in double over every 7th float in [-100, 0] (about 1.6e8 of them). */
static void check_exp(void) {
    enum { N = 4096 };
    float x[N], y[N];
    double worst = 0, worst_at = 0, worst_libm = 0, worst_sub = 0;
    const uint32_t first = sb_float_bits(-0.0f), last = sb_float_bits(-100.0f);
    for (uint32_t u = first; u <= last;) {
        int n = 0;
        for (; n < N && u <= last; n++, u += 7) x[n] = sb_bits_float(u);
        for (int i = 0; i < n; i++) y[i] = sb_expf(x[i]);
        for (int i = 0; i < n; i++) {
            const double e = exp((double)x[i]), err = fabs((double)y[i] - e);
            if (e < FLT_MIN) { /* subnormal results: absolute error, in units of the smallest subnormal */
                worst_sub = fmax(worst_sub, err / 0x1p-149);
                continue;
            }
            if (err / e > worst) worst = err / e, worst_at = x[i];
            worst_libm = fmax(worst_libm, fabs((double)expf(x[i]) - e) / e);
        }
    }
    printf("sb_expf over [-100, 0]: max relative error %.2e (%.2f x 2^-24) at x = %.7g where e^x is normal "
           "(libm expf: %.2e); subnormal results within %.2f of the smallest subnormal\n",
           worst, worst / 0x1p-24, worst_at, worst_libm, worst_sub);
    const float special[] = {-INFINITY, NAN, 0.0f, -1e-30f, -200.0f};
    for (size_t i = 0; i < sizeof special / sizeof *special; i++)
        printf("  sb_expf(%g) = %g\n", special[i], sb_expf(special[i]));
}

/* ---- timing ---- */

typedef void (*pass_fn)(const shape *s, buffers *x, int ref);

static void run_forward(const shape *s, buffers *x, int ref) {
    const float scale = 1.0f / sqrtf((float)s->head_dim);
    if (ref)
        ref_forward(x->q, x->k, x->v, s->batch, s->seq, s->heads, s->kv_heads, s->head_dim, scale, x->out_r,
                    x->lse_r);
    else
        sb_attention_forward(x->q, x->k, x->v, s->batch, s->seq, s->heads, s->kv_heads, s->head_dim, scale, x->out,
                             x->lse);
}

static void run_backward(const shape *s, buffers *x, int ref) {
    const float scale = 1.0f / sqrtf((float)s->head_dim);
    if (ref)
        ref_backward(x->q, x->k, x->v, x->out, x->lse, x->dout, s->batch, s->seq, s->heads, s->kv_heads, s->head_dim,
                     scale, x->dq_r, x->dk_r, x->dv_r);
    else
        sb_attention_backward(x->q, x->k, x->v, x->out, x->lse, x->dout, s->batch, s->seq, s->heads, s->kv_heads,
                              s->head_dim, scale, x->dq, x->dk, x->dv);
}

/* Best of several runs (at least 5 and 0.5 s; a single run for the slow reference above 1 s), in ms: the best
 * run is the one least disturbed by whatever else the machine runs. */
static double time_ms(pass_fn f, const shape *s, buffers *x, int ref) {
    double best = INFINITY, total = 0;
    for (int it = 0; it < 100 && (it < 5 || total < 0.5); it++) {
        const double t0 = now();
        f(s, x, ref);
        const double t = now() - t0;
        best = t < best ? t : best;
        total += t;
        if (ref && t > 1.0) break;
    }
    return best * 1e3;
}

static void time_shapes(int threads) {
    const long min_seq = getenv("SB_BENCH_MIN_SEQ") ? atol(getenv("SB_BENCH_MIN_SEQ")) : 128;
    const long max_seq = getenv("SB_BENCH_MAX_SEQ") ? atol(getenv("SB_BENCH_MAX_SEQ")) : 4096;
    const long ref_max = getenv("SB_BENCH_REF_MAX_SEQ") ? atol(getenv("SB_BENCH_REF_MAX_SEQ")) : 2048;
    sb_set_num_threads(threads);
    omp_set_num_threads(threads); /* the reference's loops */
    printf("\n%d thread%s; batch 1, heads 8, kv_heads 4; GFLOP/s counts the causal half "
           "(fwd 2*2*b*h*seq^2*d/2, bwd 2.5x that)\n",
           threads, threads == 1 ? "" : "s");
    printf("   d   seq |  fwd ms  GFLOP/s   ref ms  ref GF/s  speedup"
           " |  bwd ms  GFLOP/s   ref ms  ref GF/s  speedup\n");
    const int dims[] = {64, 128};
    for (int di = 0; di < 2; di++) {
        for (long seq = 128; seq <= max_seq; seq *= 2) {
            if (seq < min_seq) continue;
            const shape s = {1, seq, 8, 4, dims[di]};
            buffers x = alloc_buffers(s);
            const double fwd_flops = 2.0 * 2.0 * s.batch * s.heads * (double)seq * seq * s.head_dim / 2;
            const double bwd_flops = 2.5 * fwd_flops;
            run_forward(&s, &x, 0); /* out and lse for the backward */
            const double tf = time_ms(run_forward, &s, &x, 0), tb = time_ms(run_backward, &s, &x, 0);
            const int ref = seq <= ref_max;
            const double rf = ref ? time_ms(run_forward, &s, &x, 1) : NAN;
            const double rb = ref ? time_ms(run_backward, &s, &x, 1) : NAN;
            printf("%4lld %5ld | %7.2f %8.1f %8.1f %9.2f %8.1fx | %7.2f %8.1f %8.1f %9.2f %8.1fx\n",
                   (long long)s.head_dim, seq, tf, fwd_flops / tf * 1e-6, rf, fwd_flops / rf * 1e-6, rf / tf, tb,
                   bwd_flops / tb * 1e-6, rb, bwd_flops / rb * 1e-6, rb / tb);
            fflush(stdout);
            free_buffers(&x);
        }
    }
}

int main(int argc, char **argv) {
    int failures = check_shapes();
    check_exp();
    if (argc > 1) {
        for (int i = 1; i < argc; i++) time_shapes(atoi(argv[i]));
    } else {
        time_shapes(1);
        time_shapes(2);
    }
    if (failures) printf("\n%d shape(s) FAILED\n", failures);
    return failures != 0;
}
