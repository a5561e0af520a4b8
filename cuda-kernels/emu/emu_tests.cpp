// The emulated tests of the CUDA kernels (cuda-kernels/README.md, "Emulated tests"): every sbc_ launcher that has
// an sb_ twin in native/ is run through the emulator (cuda_emu.h) on host memory and compared with the CPU kernel,
// with the agreement the README states (bit for bit, or within rounding); the typed launchers are compared with the
// f32 launchers (bit for bit) and with a bf16 reference rounded once; the fused GEMMs with plain loops.
//
//   sbc_emu_tests [-x] [GROUP...]  runs the groups named (all when none): runtime status index elementwise
//                                  reductions matrix layers attention cached_attention cross_entropy nf4 adamw
//                                  typed fused
//   sbc_emu_tests fused                     the fused GEMMs, bf16 on both kernels (tensor cores and SIMT)
//   -x                                      stops at the first failed check
//   SBC_EMU_SEED=N sbc_emu_tests            blocks in the orders of seed N (the last line names the run's seed)
//
// One line per check; the exit status is 1 if any check failed. A check also fails when the emulator's race checker
// found a hazard in one of its launches (the FAIL line tells it; SBC_EMU_RACECHECK=0 turns the checker off).
// Compile with -ffp-contract=off: the references below are sequences of single IEEE operations.
#include "sbora_cuda.h"
#include "sbora_native.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

// The emulator's seed for the order of blocks (cuda_emu.h): SBC_EMU_SEED, or drawn at the first launch.
extern "C" uint64_t sbc_emu_seed(void);
// The races the emulator's race checker found since the last call (each failed its launch), the first one told.
extern "C" int sbc_emu_take_races(char *buf, size_t bytes);

namespace {

// ---------------------------------------------------------------- reporting

int checks = 0, failures = 0;
bool stop_at_first_failure = false; // -x

void report(const std::string &name, bool ok, std::string detail = "") {
    char race[1024];
    if (sbc_emu_take_races(race, sizeof race) != 0) { // a launch of this check failed the race checker
        ok = false;
        detail = race + (detail.empty() ? "" : "; " + detail);
    }
    checks++;
    if (!ok) failures++;
    printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", name.c_str(), detail.empty() ? "" : "  -- ", detail.c_str());
    if (!ok && stop_at_first_failure) {
        printf("# stopped at the first failure (-x), %d checks; SBC_EMU_SEED=%llu repeats the block orders\n", checks,
               (unsigned long long)sbc_emu_seed());
        fflush(stdout);
        exit(1);
    }
    fflush(stdout);
}

std::string strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
std::string strf(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

// A launcher's status; a non-zero one is reported as the check's failure.
bool launched(const std::string &name, int status) {
    if (status == 0) return true;
    char text[256];
    sbc_error_string(status, text, sizeof text);
    report(name, false, strf("status %d (%s)", status, text));
    return false;
}

// ---------------------------------------------------------------- data

uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull) {}
    uint64_t next() { // splitmix64
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    float uni(float lo = -1.0f, float hi = 1.0f) { return lo + (hi - lo) * (float)((next() >> 40) * 0x1p-24); }
    int64_t below(int64_t n) { return (int64_t)(next() % (uint64_t)n); }
};

std::vector<float> random_floats(Rng &rng, size_t n, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> v(n);
    for (float &x : v) x = rng.uni(lo, hi);
    return v;
}

// Values that make elementwise code show its rounding and special cases.
void sprinkle_specials(Rng &rng, std::vector<float> &v) {
    static const uint32_t special[] = {0x7fc00001u, 0xffc12345u, 0x7f800000u, 0xff800000u, 0x80000000u,
                                       0x00000000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu, 0x3f800000u};
    for (size_t k = 0; k < v.size() / 16 + 1 && !v.empty(); k++)
        v[(size_t)rng.below((int64_t)v.size())] = from_bits(special[rng.below(10)]);
}

// r distinct indices in [0, n) (r <= n), in random order.
std::vector<int32_t> distinct_indices(Rng &rng, int64_t n, int64_t r) {
    std::vector<int32_t> p((size_t)n);
    for (int64_t i = 0; i < n; i++) p[(size_t)i] = (int32_t)i;
    for (int64_t i = n - 1; i > 0; i--) std::swap(p[(size_t)i], p[(size_t)rng.below(i + 1)]);
    p.resize((size_t)r);
    return p;
}

// r indices in [0, n), repeats likely.
std::vector<int32_t> any_indices(Rng &rng, int64_t n, int64_t r) {
    std::vector<int32_t> p((size_t)r);
    for (auto &x : p) x = (int32_t)rng.below(n);
    return p;
}

const float kUnwritten = from_bits(0x7fa5a5a5u); // a NaN that no kernel computes: an output element not written

// ---------------------------------------------------------------- bf16 reference (independent of the kernels')

// Nearest bf16, ties to even, overflow to infinity; a NaN keeps its sign and top payload bits, made quiet.
uint16_t bf16_round(float f) {
    const uint32_t u = bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    uint32_t hi = u & 0xffff0000u;
    const uint32_t rest = u & 0xffffu;
    if (rest > 0x8000u || (rest == 0x8000u && (hi & 0x10000u))) hi += 0x10000u;
    return (uint16_t)(hi >> 16);
}
float bf16_widen(uint16_t b) { return from_bits((uint32_t)b << 16); }

std::vector<uint16_t> random_bf16(Rng &rng, size_t n, float lo = -1.0f, float hi = 1.0f) {
    std::vector<uint16_t> v(n);
    for (auto &x : v) x = bf16_round(rng.uni(lo, hi));
    return v;
}

// ---------------------------------------------------------------- comparisons

bool same_value(float a, float b) { return bits(a) == bits(b) || (isnan(a) && isnan(b)); }

// Equal values: the same bits, except that any two NaNs match (a GPU's arithmetic returns its canonical NaN).
void expect_exact(const std::string &name, const float *got, const float *want, size_t n) {
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (!same_value(got[i], want[i]) && bad++ == 0) first = i;
    report(name, bad == 0,
           bad == 0 ? "" : strf("%zu of %zu differ, first at %zu: got %.9g (%08x), want %.9g (%08x)", bad, n, first,
                                got[first], bits(got[first]), want[first], bits(want[first])));
}
void expect_exact(const std::string &name, const std::vector<float> &got, const std::vector<float> &want) {
    if (got.size() != want.size()) return report(name, false, "sizes differ");
    expect_exact(name, got.data(), want.data(), got.size());
}

// The same bytes (copies, conversions, codes).
template <typename T>
void expect_bits(const std::string &name, const std::vector<T> &got, const std::vector<T> &want) {
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < got.size(); i++)
        if (memcmp(&got[i], &want[i], sizeof(T)) != 0 && bad++ == 0) first = i;
    uint64_t g = 0, w = 0;
    if (bad) {
        memcpy(&g, &got[first], sizeof(T));
        memcpy(&w, &want[first], sizeof(T));
    }
    report(name, bad == 0 && got.size() == want.size(),
           bad == 0 ? "" : strf("%zu of %zu differ, first at %zu: got %#llx, want %#llx", bad, got.size(), first,
                                (unsigned long long)g, (unsigned long long)w));
}

// bf16 values equal (NaNs match any NaN).
void expect_bf16(const std::string &name, const std::vector<uint16_t> &got, const std::vector<uint16_t> &want) {
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < got.size(); i++)
        if (!same_value(bf16_widen(got[i]), bf16_widen(want[i])) && bad++ == 0) first = i;
    report(name, bad == 0,
           bad == 0 ? "" : strf("%zu of %zu differ, first at %zu: got %.6g (%04x), want %.6g (%04x)", bad, got.size(),
                                first, bf16_widen(got[first]), got[first], bf16_widen(want[first]), want[first]));
}

// |got - want| <= tol[i] (or the same value).
void expect_within(const std::string &name, const float *got, const double *want, const double *tol, size_t n) {
    size_t bad = 0, first = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double err = fabs((double)got[i] - want[i]);
        if (same_value(got[i], (float)want[i])) continue;
        if (!(err <= tol[i])) {
            if (bad++ == 0) first = i;
            if (!(err / (tol[i] + 1e-300) <= worst)) worst = err / (tol[i] + 1e-300);
        }
    }
    report(name, bad == 0,
           bad == 0 ? ""
                    : strf("%zu of %zu out of tolerance, first at %zu: got %.9g, want %.9g, tol %.3g (worst %.3gx)",
                           bad, n, first, got[first], want[first], tol[first], worst));
}

// |got - want| <= rtol * |want| + atol, elementwise, want a float array.
void expect_close(const std::string &name, const std::vector<float> &got, const std::vector<float> &want,
                  double rtol, double atol) {
    std::vector<double> w(want.begin(), want.end()), t(want.size());
    for (size_t i = 0; i < want.size(); i++) t[i] = rtol * fabs((double)want[i]) + atol;
    expect_within(name, got.data(), w.data(), t.data(), std::min(got.size(), want.size()));
}

double max_abs(const std::vector<float> &v) {
    double m = 0;
    for (float x : v) m = std::max(m, (double)fabsf(x));
    return m;
}

// ---------------------------------------------------------------- runtime and status parity

void test_runtime() {
    int n = -1;
    report("runtime sbc_device_count", sbc_device_count(&n) == 0 && n == 1, strf("count %d", n));
    char name[64] = "";
    int capability = 0;
    report("runtime sbc_set_device, sbc_device_info",
           sbc_set_device(0) == 0 && sbc_set_device(-1) == SBC_ERR_ARG &&
               sbc_device_info(0, name, sizeof name, &capability) == 0 && capability == 90 && name[0] != 0,
           strf("%s, capability %d", name, capability));
    char text[128];
    sbc_error_string(SBC_ERR_ARG, text, sizeof text);
    report("runtime sbc_error_string(SBC_ERR_ARG)", strcmp(text, "SBC_ERR_ARG: invalid argument") == 0, text);
    sbc_error_string(1, text, sizeof text);
    report("runtime sbc_error_string(1)", strcmp(text, "cudaErrorInvalidValue: invalid argument") == 0, text);

    void *d = nullptr, *stream = nullptr;
    std::vector<float> host = {1, 2, 3, 4}, back(4, 0.0f);
    bool ok = sbc_malloc(&d, 16) == 0 && d != nullptr && sbc_stream_create(&stream) == 0 && stream != nullptr;
    ok = ok && sbc_memcpy(d, host.data(), 16, SBC_HOST_TO_DEVICE) == 0;
    ok = ok && sbc_memset(static_cast<char *>(d) + 4, 0, 4, stream) == 0;
    ok = ok && sbc_memcpy_async(back.data(), d, 16, SBC_DEVICE_TO_HOST, stream) == 0;
    ok = ok && sbc_stream_synchronize(stream) == 0 && sbc_synchronize() == 0;
    ok = ok && back == std::vector<float>{1, 0, 3, 4};
    ok = ok && sbc_stream_destroy(stream) == 0 && sbc_free(d) == 0 && sbc_memcpy(d, d, 4, 7) == SBC_ERR_ARG;
    report("runtime malloc, copies, memset, stream", ok);

    // A launch configuration the GPU refuses: the fused GEMM's grid is checked before the launch.
    float f = 0;
    int32_t idx = 0;
    const int64_t huge = 65536LL * 64 + 1;
    report("runtime gather_gemm grid too tall -> SBC_ERR_ARG",
           sbc_gather_gemm(SBC_F32, &f, 1, 1, &idx, 1, &f, huge, 0, huge, 1.0f, &f, huge, nullptr, 0,
                           SBC_KERNEL_AUTO, nullptr) == SBC_ERR_ARG);
}

void parity(const char *fn, const char *args, int sb, int sbc) {
    const bool ok = (sb == SB_OK && sbc == SBC_OK) || (sb == SB_ERR_ARG && sbc == SBC_ERR_ARG);
    report(strf("status %s(%s)", fn, args), ok, ok ? "" : strf("sb %d, sbc %d", sb, sbc));
}
#define PARITY(fn, ...) parity(#fn, #__VA_ARGS__, sb_##fn(__VA_ARGS__), sbc_##fn(__VA_ARGS__, nullptr))

// The same argument checks in the same order, and the same early returns on empty sizes (C: SB_ERR_ARG, CUDA:
// SBC_ERR_ARG); where both accept, both kernels run on these small buffers.
void test_status() {
    std::vector<float> F(64, 0.5f), G(64, 0.25f), H(64, 1.0f), K(64, 0.125f);
    std::vector<int32_t> I = {0, 1, 1, 0};
    std::vector<uint8_t> U(64, 0);
    double D = 0;
    int64_t L = 0;
    float *f = F.data(), *g = G.data(), *h = H.data(), *k = K.data();
    const int32_t *i = I.data();
    uint8_t *u = U.data();
    PARITY(gather_cols, f, -1, 4, 4, i, 2, g, 2);
    PARITY(gather_cols, f, 4, 4, 3, i, 2, g, 2);
    PARITY(gather_cols, f, 4, 4, 4, i, 2, g, 1);
    PARITY(gather_cols, nullptr, 0, 4, 4, nullptr, 2, nullptr, 2);
    PARITY(gather_cols, nullptr, 4, 4, 4, i, 2, g, 2);
    PARITY(gather_rows, f, 4, 4, 4, i, 2, g, 3);
    PARITY(gather_rows, nullptr, 4, 0, 4, nullptr, 2, nullptr, 4);
    PARITY(index_add_cols, f, 4, 4, 4, i, 2, g, 1, 1.0f);
    PARITY(index_add_cols, f, 4, 4, 4, nullptr, 2, g, 2, 1.0f);
    PARITY(index_add_rows, f, 4, 4, 4, i, 2, g, 3, 1.0f);
    PARITY(index_add_rows, nullptr, 4, 4, 4, nullptr, 0, nullptr, 4, 1.0f);
    PARITY(fill, f, -1, 0.0f);
    PARITY(fill, nullptr, 0, 0.0f);
    PARITY(add, f, g, -1, h);
    PARITY(sub, nullptr, g, 3, h);
    PARITY(mul, f, g, 3, nullptr);
    PARITY(div, nullptr, nullptr, 0, nullptr);
    PARITY(scale, nullptr, 0, 2.0f, nullptr);
    PARITY(scale, f, 3, 2.0f, nullptr);
    PARITY(axpy, -1, 1.0f, f, g);
    PARITY(axpy, 3, 1.0f, f, nullptr);
    PARITY(sum, f, 3, nullptr);
    PARITY(sum, nullptr, 0, &D);
    PARITY(sum, nullptr, 3, &D);
    PARITY(dot, f, nullptr, 3, &D);
    PARITY(dot, f, g, -2, &D);
    PARITY(count_nonfinite, f, -1, &L);
    PARITY(count_nonfinite, nullptr, 0, &L);
    PARITY(row_norm, f, -1, 3, g);
    PARITY(row_norm, nullptr, 0, 3, nullptr);
    PARITY(row_norm, f, 2, -3, g);
    PARITY(scale_rows, f, 2, 2, nullptr, g);
    PARITY(scale_cols, nullptr, 2, 0, nullptr, nullptr);
    PARITY(col_dot, f, g, 2, -1, h);
    PARITY(col_dot, nullptr, nullptr, 2, 0, nullptr);
    PARITY(col_dot, f, g, -1, 2, h);
    PARITY(transpose, f, 2, 2, nullptr);
    PARITY(transpose, nullptr, 0, 2, nullptr);
    PARITY(rmsnorm_forward, f, g, 2, 0, 1e-5f, h, k);
    PARITY(rmsnorm_forward, f, g, 2, 4, -1.0f, h, k);
    PARITY(rmsnorm_forward, nullptr, nullptr, 0, 4, 0.0f, nullptr, nullptr);
    PARITY(rmsnorm_forward, f, g, 2, 4, 0.0f, h, nullptr);
    PARITY(rmsnorm_backward, f, g, h, f, 0, 4, nullptr, k);
    PARITY(rmsnorm_backward, f, g, h, nullptr, 2, 4, k, nullptr);
    PARITY(rmsnorm_backward, f, g, h, f, 2, 4, nullptr, nullptr);
    PARITY(rope, f, 2, 1, 3, i, g, h, 4, 1.0f, k);
    PARITY(rope, nullptr, 0, 1, 4, nullptr, nullptr, nullptr, 1, 1.0f, nullptr);
    PARITY(rope, f, 2, 1, 4, i, g, h, 0, 1.0f, k);
    PARITY(rope, f, 2, 0, 4, i, g, h, 4, 1.0f, k);
    PARITY(silu_mul_forward, f, g, -1, h);
    PARITY(silu_mul_forward, f, nullptr, 4, h);
    PARITY(silu_mul_backward, f, g, h, 4, nullptr, nullptr);
    PARITY(silu_mul_backward, f, g, nullptr, 4, k, nullptr);
    PARITY(attention_forward, f, g, h, 1, 2, 3, 2, 4, 0.5f, k, f);
    PARITY(attention_forward, nullptr, nullptr, nullptr, 0, 2, 2, 1, 4, 0.5f, nullptr, nullptr);
    PARITY(attention_forward, f, g, h, 1, 2, 2, 1, 0, 0.5f, k, f);
    PARITY(attention_backward, f, g, h, f, g, h, 1, 2, 2, 1, 4, 0.5f, nullptr, k, k);
    PARITY(attention_backward, f, g, h, f, g, h, -1, 2, 2, 1, 4, 0.5f, k, k, k);
    PARITY(cached_attention, f, g, h, i, 2, 1, 2, 2, 1, 4, 0.5f, 0, k);
    PARITY(cached_attention, nullptr, nullptr, nullptr, nullptr, 0, 1, 2, 2, 1, 4, 0.5f, 0, nullptr);
    PARITY(cached_attention, nullptr, nullptr, nullptr, nullptr, 2, 0, 2, 2, 1, 4, 0.5f, 0, nullptr);
    PARITY(cached_attention, f, g, h, i, 2, 3, 2, 2, 1, 4, 0.5f, 0, k);
    PARITY(cached_attention, f, g, h, i, 2, 1, 2, 3, 2, 4, 0.5f, 0, k);
    PARITY(cached_attention, f, g, h, i, 2, 1, 2, 2, 1, 4, 0.5f, -1, k);
    PARITY(cached_attention, f, g, h, nullptr, 2, 1, 2, 2, 1, 4, 0.5f, 0, k);
    {
        // past[1] = 1 with 2 new tokens in a cache of 2: no room, an index error from both
        const int a = sb_cached_attention(f, g, h, i, 2, 2, 2, 2, 1, 4, 0.5f, 0, k);
        const int b = sbc_cached_attention(f, g, h, i, 2, 2, 2, 2, 1, 4, 0.5f, 0, k, nullptr);
        report("status cached_attention past out of range", a == SB_ERR_INDEX && b == SBC_ERR_INDEX,
               strf("sb %d, sbc %d", a, b));
    }
    PARITY(cross_entropy_forward, f, i, 2, 0, -100, g, h);
    PARITY(cross_entropy_forward, f, nullptr, 2, 4, -100, g, h);
    PARITY(cross_entropy_backward, nullptr, nullptr, nullptr, 0, 4, -100, 1.0f, nullptr);
    PARITY(cross_entropy_backward, f, i, nullptr, 2, 4, -100, 1.0f, g);
    PARITY(nf4_quantize, f, 4, 3, u, g);
    PARITY(nf4_quantize, nullptr, 0, 2, nullptr, nullptr);
    PARITY(nf4_quantize, f, 4, 2, nullptr, g);
    PARITY(nf4_dequantize, u, f, -1, 2, 2, g);
    PARITY(nf4_dequantize, nullptr, nullptr, 0, 0, 2, nullptr);
    PARITY(nf4_dequantize, u, f, 0, 2, 0, g);
    PARITY(adamw_step, f, g, h, k, 4, 0.9f, 0.999f, 1e-8f, 1.0f, 1e-3f, 0.0f);
    PARITY(adamw_step, nullptr, nullptr, nullptr, nullptr, 0, 0.9f, 0.999f, 1e-8f, 1.0f, 1e-3f, 0.0f);
    PARITY(adamw_step, f, g, h, nullptr, 4, 0.9f, 0.999f, 1e-8f, 1.0f, 1e-3f, 1.0f);

    // The launchers without a C twin: type codes are checked first, then the sizes, then the early returns.
    const struct {
        const char *what;
        int got, want;
    } own[] = {
        {"convert(f, 2, g, SBC_F32, 4)", sbc_convert(f, 2, g, SBC_F32, 4, nullptr), SBC_ERR_ARG},
        {"convert(nullptr, SBC_F32, nullptr, SBC_BF16, 0)",
         sbc_convert(nullptr, SBC_F32, nullptr, SBC_BF16, 0, nullptr), SBC_OK},
        {"convert(f, SBC_F32, f, SBC_F32, 4)", sbc_convert(f, SBC_F32, f, SBC_F32, 4, nullptr), SBC_OK},
        {"fill_t(nullptr, 7, 0)", sbc_fill_t(nullptr, 7, 0, 0.0f, nullptr), SBC_ERR_ARG},
        {"scale_t(f, SBC_BF16, -1)", sbc_scale_t(f, SBC_BF16, -1, 1.0f, g, nullptr), SBC_ERR_ARG},
        {"axpy_t(4, x SBC_F32, y type 3)", sbc_axpy_t(4, 1.0f, f, SBC_F32, g, 3, nullptr), SBC_ERR_ARG},
        {"sum_t(f, SBC_F32, 4, nullptr)", sbc_sum_t(f, SBC_F32, 4, nullptr, nullptr), SBC_ERR_ARG},
        {"count_nonfinite_t(f, -1, 4)", sbc_count_nonfinite_t(f, -1, 4, &L, nullptr), SBC_ERR_ARG},
        {"gather_cols_t(ldo < r)", sbc_gather_cols_t(f, SBC_BF16, 4, 4, 4, i, 2, g, 1, nullptr), SBC_ERR_ARG},
        {"gather_rows_t(empty, NULLs)",
         sbc_gather_rows_t(nullptr, SBC_F32, 4, 0, 4, nullptr, 2, nullptr, 4, nullptr), SBC_OK},
        {"index_add_cols_t(lds < r)",
         sbc_index_add_cols_t(f, SBC_F32, 4, 4, 4, i, 2, g, SBC_BF16, 1, 1.0f, nullptr), SBC_ERR_ARG},
        {"index_add_rows_t(bad src type)",
         sbc_index_add_rows_t(f, SBC_F32, 4, 4, 4, i, 2, g, 9, 4, 1.0f, nullptr), SBC_ERR_ARG},
        {"gather_gemm(type 2)",
         sbc_gather_gemm(2, f, 2, 4, i, 2, g, 4, 0, 4, 1.0f, h, 4, nullptr, 0, SBC_KERNEL_AUTO, nullptr),
         SBC_ERR_ARG},
        {"gather_gemm(kernel 7)",
         sbc_gather_gemm(SBC_F32, f, 2, 4, i, 2, g, 4, 0, 4, 1.0f, h, 4, nullptr, 0, 7, nullptr), SBC_ERR_ARG},
        {"gather_gemm(ldc < n)",
         sbc_gather_gemm(SBC_F32, f, 2, 4, i, 2, g, 4, 0, 4, 1.0f, h, 3, nullptr, 0, SBC_KERNEL_AUTO, nullptr),
         SBC_ERR_ARG},
        {"gather_gemm(ldxs < r)",
         sbc_gather_gemm(SBC_F32, f, 2, 4, i, 2, g, 4, 0, 4, 1.0f, h, 4, k, 1, SBC_KERNEL_AUTO, nullptr),
         SBC_ERR_ARG},
        {"gather_gemm(m = 0, NULLs)",
         sbc_gather_gemm(SBC_F32, nullptr, 0, 4, nullptr, 2, nullptr, 4, 0, 4, 1.0f, nullptr, 4, nullptr, 0,
                         SBC_KERNEL_AUTO, nullptr),
         SBC_OK},
        {"gather_gemm(n = 0, no xs, c NULL)",
         sbc_gather_gemm(SBC_F32, f, 2, 4, i, 2, g, 4, 0, 0, 1.0f, nullptr, 4, nullptr, 0, SBC_KERNEL_AUTO, nullptr),
         SBC_OK},
        {"gather_gemm(ldf < r, trans_f)",
         sbc_gather_gemm(SBC_F32, f, 2, 4, i, 2, g, 1, 1, 4, 1.0f, h, 4, nullptr, 0, SBC_KERNEL_AUTO, nullptr),
         SBC_ERR_ARG},
        {"gemm_scatter(lda < kdim)",
         sbc_gemm_scatter(SBC_BF16, f, 2, 4, 3, g, 4, 0, i, 2, 1.0f, h, 4, SBC_KERNEL_AUTO, nullptr), SBC_ERR_ARG},
        {"gemm_scatter(kernel -1)",
         sbc_gemm_scatter(SBC_F32, f, 2, 4, 4, g, 4, 0, i, 2, 1.0f, h, 4, -1, nullptr), SBC_ERR_ARG},
        {"gemm_scatter(kdim = 0, a NULL)",
         sbc_gemm_scatter(SBC_F32, nullptr, 2, 0, 0, nullptr, 4, 0, i, 2, 1.0f, h, 4, SBC_KERNEL_AUTO, nullptr),
         SBC_OK},
        {"gemm_scatter(c NULL)",
         sbc_gemm_scatter(SBC_F32, f, 2, 4, 4, g, 4, 0, i, 2, 1.0f, nullptr, 4, SBC_KERNEL_AUTO, nullptr),
         SBC_ERR_ARG},
    };
    for (const auto &c : own)
        report(strf("status sbc_%s", c.what), c.got == c.want, strf("got %d, want %d", c.got, c.want));
}

// ---------------------------------------------------------------- gathers and index-adds

struct Shape3 {
    int64_t rows, cols, r;
};

void test_index() {
    Rng rng(1);
    const Shape3 shapes[] = {{1, 1, 1}, {33, 65, 1}, {33, 65, 65}, {130, 200, 37}, {300, 17, 17}, {7, 300, 100}};
    for (const Shape3 &s : shapes)
        for (int pad : {0, 3}) {
            const std::string dims = strf("%lldx%lld r=%lld pad=%d", (long long)s.rows, (long long)s.cols,
                                          (long long)s.r, pad);
            {   // out[t, j] = x[t, idx[j]], indices may repeat
                const int64_t ldx = s.cols + pad, ldo = s.r + pad;
                auto x = random_floats(rng, (size_t)(s.rows * ldx));
                sprinkle_specials(rng, x);
                auto idx = pad ? any_indices(rng, s.cols, s.r) : distinct_indices(rng, s.cols, s.r);
                std::vector<float> want((size_t)(s.rows * ldo), kUnwritten), got = want;
                sb_gather_cols(x.data(), s.rows, s.cols, ldx, idx.data(), s.r, want.data(), ldo);
                if (launched("gather_cols " + dims, sbc_gather_cols(x.data(), s.rows, s.cols, ldx, idx.data(), s.r,
                                                                     got.data(), ldo, nullptr)))
                    expect_bits("gather_cols " + dims, got, want);
            }
            {   // out[j, :] = x[idx[j], :]
                const int64_t ldx = s.cols + pad, ldo = s.cols + 2 * pad;
                auto x = random_floats(rng, (size_t)(s.rows * ldx));
                sprinkle_specials(rng, x);
                auto idx = any_indices(rng, s.rows, s.r);
                std::vector<float> want((size_t)(s.r * ldo), kUnwritten), got = want;
                sb_gather_rows(x.data(), s.rows, s.cols, ldx, idx.data(), s.r, want.data(), ldo);
                if (launched("gather_rows " + dims, sbc_gather_rows(x.data(), s.rows, s.cols, ldx, idx.data(), s.r,
                                                                     got.data(), ldo, nullptr)))
                    expect_bits("gather_rows " + dims, got, want);
            }
            {   // dst[t, idx[j]] += alpha * src[t, j], indices distinct: exact
                const int64_t ldd = s.cols + pad, lds = s.r + pad;
                auto dst = random_floats(rng, (size_t)(s.rows * ldd));
                auto src = random_floats(rng, (size_t)(s.rows * lds));
                auto idx = distinct_indices(rng, s.cols, s.r);
                auto got = dst;
                sb_index_add_cols(dst.data(), s.rows, s.cols, ldd, idx.data(), s.r, src.data(), lds, -0.7f);
                if (launched("index_add_cols " + dims,
                             sbc_index_add_cols(got.data(), s.rows, s.cols, ldd, idx.data(), s.r, src.data(), lds,
                                                -0.7f, nullptr)))
                    expect_exact("index_add_cols " + dims, got, dst);
            }
        }
    // dst[idx[j], :] += alpha * src[j, :]: distinct indices exact; repeated ones in no fixed order, within rounding.
    const Shape3 row_shapes[] = {{1, 1, 1}, {65, 33, 65}, {200, 130, 37}, {17, 300, 17}, {5, 70, 300}};
    for (const Shape3 &s : row_shapes)
        for (int repeated : {0, 1}) {
            if (!repeated && s.r > s.rows) continue;
            const int64_t ldd = s.cols + 1, lds = s.cols + 2;
            const std::string name = strf("index_add_rows %lldx%lld r=%lld %s", (long long)s.rows, (long long)s.cols,
                                          (long long)s.r, repeated ? "repeated" : "distinct");
            auto dst = random_floats(rng, (size_t)(s.rows * ldd));
            auto src = random_floats(rng, (size_t)(s.r * lds));
            auto idx = repeated ? any_indices(rng, s.rows, s.r) : distinct_indices(rng, s.rows, s.r);
            auto got = dst, want = dst;
            const float alpha = 1.25f;
            sb_index_add_rows(want.data(), s.rows, s.cols, ldd, idx.data(), s.r, src.data(), lds, alpha);
            if (!launched(name, sbc_index_add_rows(got.data(), s.rows, s.cols, ldd, idx.data(), s.r, src.data(), lds,
                                                   alpha, nullptr)))
                continue;
            if (!repeated) {
                expect_exact(name, got, want);
                continue;
            }
            // Each addition rounds once: within (terms + 1) * 2^-24 * (|dst| + sum of |terms|).
            std::vector<double> mag(dst.size()), terms(dst.size(), 1.0), w(want.begin(), want.end());
            for (size_t e = 0; e < dst.size(); e++) mag[e] = fabs((double)dst[e]);
            for (int64_t j = 0; j < s.r; j++)
                for (int64_t c = 0; c < s.cols; c++) {
                    mag[(size_t)(idx[(size_t)j] * ldd + c)] += fabs((double)alpha * src[(size_t)(j * lds + c)]);
                    terms[(size_t)(idx[(size_t)j] * ldd + c)] += 1;
                }
            for (size_t e = 0; e < dst.size(); e++) mag[e] *= 2 * terms[e] * 0x1p-24;
            expect_within(name, got.data(), w.data(), mag.data(), got.size());
        }
    {   // Many indices out of range in one launch, over several blocks: every thread that finds one raises the flag
        // (check_indices), the gather writes nothing, and sbc_take_index_fault reports the fault once.
        const int64_t rows = 3, cols = 100, r = 700;
        auto x = random_floats(rng, (size_t)(rows * cols));
        std::vector<int32_t> idx((size_t)r);
        for (int64_t j = 0; j < r; j++) idx[(size_t)j] = (int32_t)(j % 3 == 0 ? cols + j : j % cols);
        std::vector<float> got((size_t)(rows * r), kUnwritten);
        int fault = 0, again = 1;
        const std::string name = "gather_cols with many indices out of range";
        if (launched(name, sbc_gather_cols(x.data(), rows, cols, cols, idx.data(), r, got.data(), r, nullptr)) &&
            launched(name, sbc_take_index_fault(&fault, nullptr)) &&
            launched(name, sbc_take_index_fault(&again, nullptr))) {
            bool untouched = true;
            for (float v : got) untouched &= bits(v) == bits(kUnwritten);
            report(name, fault == 1 && again == 0 && untouched,
                   strf("fault %d, then %d, output %s", fault, again, untouched ? "untouched" : "written"));
        }
    }
}

// ---------------------------------------------------------------- elementwise

void test_elementwise() {
    Rng rng(2);
    for (int64_t n : {1, 31, 257, 3001}) {
        auto a = random_floats(rng, (size_t)n, -4, 4), b = random_floats(rng, (size_t)n, -4, 4);
        sprinkle_specials(rng, a);
        sprinkle_specials(rng, b);
        const std::string sz = strf(" n=%lld", (long long)n);
        using SbBin = int (*)(const float *, const float *, int64_t, float *);
        using SbcBin = int (*)(const float *, const float *, int64_t, float *, void *);
        const struct {
            const char *name;
            SbBin sb;
            SbcBin sbc;
        } ops[] = {
            {"add", sb_add, sbc_add}, {"sub", sb_sub, sbc_sub}, {"mul", sb_mul, sbc_mul}, {"div", sb_div, sbc_div}};
        for (const auto &op : ops) {
            std::vector<float> want((size_t)n, kUnwritten), got = want;
            op.sb(a.data(), b.data(), n, want.data());
            if (launched(op.name + sz, op.sbc(a.data(), b.data(), n, got.data(), nullptr)))
                expect_exact(op.name + sz, got, want);
        }
        {   // out aliases a
            auto want = a, got = a;
            sb_div(want.data(), b.data(), n, want.data());
            if (launched("div in place" + sz, sbc_div(got.data(), b.data(), n, got.data(), nullptr)))
                expect_exact("div in place" + sz, got, want);
        }
        {
            std::vector<float> want((size_t)n, 0.0f), got = want;
            sb_fill(want.data(), n, -2.5f);
            if (launched("fill" + sz, sbc_fill(got.data(), n, -2.5f, nullptr))) expect_exact("fill" + sz, got, want);
        }
        {
            std::vector<float> want((size_t)n, kUnwritten), got = want;
            sb_scale(a.data(), n, 0.3f, want.data());
            if (launched("scale" + sz, sbc_scale(a.data(), n, 0.3f, got.data(), nullptr)))
                expect_exact("scale" + sz, got, want);
        }
        {
            auto want = b, got = b;
            sb_axpy(n, -1.7f, a.data(), want.data());
            if (launched("axpy" + sz, sbc_axpy(n, -1.7f, a.data(), got.data(), nullptr)))
                expect_exact("axpy" + sz, got, want);
        }
    }
}

// ---------------------------------------------------------------- reductions

void test_reductions() {
    Rng rng(3);
    // 263,000 elements (the sum only): more than the 1024 blocks of 256 threads the reductions launch, so the
    // grid-stride loop wraps around once.
    for (int64_t n : {0, 1, 1000, 70001, 263000}) {
        const std::string sz = strf(" n=%lld", (long long)n);
        auto a = random_floats(rng, (size_t)n, -2, 2), b = random_floats(rng, (size_t)n, -2, 2);
        double abs_sum = 0, abs_dot = 0;
        for (int64_t i = 0; i < n; i++) {
            abs_sum += fabs((double)a[(size_t)i]);
            abs_dot += fabs((double)a[(size_t)i] * b[(size_t)i]);
        }
        // Two double sums of n terms in different orders: each within n * 2^-53 * sum |terms| of the exact one.
        const double bound = 2 * (double)(n + 1) * 0x1p-53;
        double want = 0, got = 12345;
        sb_sum(a.data(), n, &want);
        if (launched("sum" + sz, sbc_sum(a.data(), n, &got, nullptr)))
            report("sum" + sz, fabs(got - want) <= bound * abs_sum, strf("got %.17g, want %.17g", got, want));
        if (n >= 100000) continue; // the same again for dot and count_nonfinite would take seconds
        want = 0, got = 12345;
        sb_dot(a.data(), b.data(), n, &want);
        if (launched("dot" + sz, sbc_dot(a.data(), b.data(), n, &got, nullptr)))
            report("dot" + sz, fabs(got - want) <= bound * abs_dot, strf("got %.17g, want %.17g", got, want));
        sprinkle_specials(rng, a);
        int64_t cwant = -1, cgot = 12345;
        sb_count_nonfinite(a.data(), n, &cwant);
        if (launched("count_nonfinite" + sz, sbc_count_nonfinite(a.data(), n, &cgot, nullptr)))
            report("count_nonfinite" + sz, cgot == cwant,
                   strf("got %lld, want %lld", (long long)cgot, (long long)cwant));
    }
}

// ---------------------------------------------------------------- rows and columns

void test_matrix() {
    Rng rng(4);
    struct Shape {
        int64_t rows, cols;
    };
    for (Shape s : {Shape{1, 1}, Shape{3, 37}, Shape{65, 300}, Shape{2, 600}, Shape{4, 0}}) {
        const std::string dims = strf(" %lldx%lld", (long long)s.rows, (long long)s.cols);
        auto x = random_floats(rng, (size_t)std::max<int64_t>(1, s.rows * s.cols)); // never NULL
        std::vector<float> want((size_t)s.rows, kUnwritten), got = want;
        sb_row_norm(x.data(), s.rows, s.cols, want.data());
        // A double tree sum, then one rounding to float: at most an ulp apart.
        if (launched("row_norm" + dims, sbc_row_norm(x.data(), s.rows, s.cols, got.data(), nullptr)))
            expect_close("row_norm" + dims, got, want, 0x1p-23, 0);
    }
    for (Shape s : {Shape{1, 1}, Shape{33, 65}, Shape{130, 200}, Shape{300, 7}, Shape{0, 5}}) {
        const std::string dims = strf(" %lldx%lld", (long long)s.rows, (long long)s.cols);
        const size_t n = (size_t)(s.rows * s.cols), alloc = std::max<size_t>(n, 1); // never NULL
        auto x = random_floats(rng, alloc, -3, 3), y = random_floats(rng, alloc, -3, 3);
        sprinkle_specials(rng, x);
        auto sr = random_floats(rng, (size_t)s.rows, -2, 2), sc = random_floats(rng, (size_t)s.cols, -2, 2);
        {
            std::vector<float> want(n, kUnwritten), got = want;
            sb_scale_rows(x.data(), s.rows, s.cols, sr.data(), want.data());
            if (launched("scale_rows" + dims, sbc_scale_rows(x.data(), s.rows, s.cols, sr.data(), got.data(), nullptr)))
                expect_exact("scale_rows" + dims, got, want);
        }
        {
            std::vector<float> want(n, kUnwritten), got = want;
            sb_scale_cols(x.data(), s.rows, s.cols, sc.data(), want.data());
            if (launched("scale_cols" + dims, sbc_scale_cols(x.data(), s.rows, s.cols, sc.data(), got.data(), nullptr)))
                expect_exact("scale_cols" + dims, got, want);
        }
        {
            std::vector<float> want(n, kUnwritten), got = want;
            sb_transpose(x.data(), s.rows, s.cols, want.data());
            if (launched("transpose" + dims, sbc_transpose(x.data(), s.rows, s.cols, got.data(), nullptr)))
                expect_bits("transpose" + dims, got, want);
        }
        {
            auto xa = random_floats(rng, alloc, -3, 3);
            std::vector<float> want((size_t)s.cols, kUnwritten), got = want;
            sb_col_dot(xa.data(), y.data(), s.rows, s.cols, want.data());
            if (launched("col_dot" + dims, sbc_col_dot(xa.data(), y.data(), s.rows, s.cols, got.data(), nullptr)))
                expect_exact("col_dot" + dims, got, want);
        }
    }
}

// ---------------------------------------------------------------- transformer layers

void test_layers() {
    Rng rng(5);
    struct Shape {
        int64_t rows, n;
    };
    for (Shape s : {Shape{1, 1}, Shape{5, 33}, Shape{33, 700}, Shape{3, 257}}) {
        const std::string dims = strf(" %lldx%lld", (long long)s.rows, (long long)s.n);
        const size_t len = (size_t)(s.rows * s.n);
        auto x = random_floats(rng, len, -2, 2), w = random_floats(rng, (size_t)s.n, 0.5f, 1.5f);
        auto dy = random_floats(rng, len);
        std::vector<float> y_want(len, kUnwritten), y_got = y_want, r_want((size_t)s.rows, kUnwritten), r_got = r_want;
        sb_rmsnorm_forward(x.data(), w.data(), s.rows, s.n, 1e-5f, y_want.data(), r_want.data());
        if (launched("rmsnorm_forward" + dims, sbc_rmsnorm_forward(x.data(), w.data(), s.rows, s.n, 1e-5f,
                                                                   y_got.data(), r_got.data(), nullptr))) {
            // rstd: a double tree sum, then rounded once; y: two rounded products from it.
            expect_close("rmsnorm_forward rstd" + dims, r_got, r_want, 0x1p-23, 0);
            expect_close("rmsnorm_forward y" + dims, y_got, y_want, 0x1p-21, 0);
        }
        {   // y aliases x
            auto want = x, got = x;
            std::vector<float> rw((size_t)s.rows), rg((size_t)s.rows);
            sb_rmsnorm_forward(want.data(), w.data(), s.rows, s.n, 1e-5f, want.data(), rw.data());
            if (launched("rmsnorm_forward in place" + dims, sbc_rmsnorm_forward(got.data(), w.data(), s.rows, s.n,
                                                                                1e-5f, got.data(), rg.data(), nullptr)))
                expect_close("rmsnorm_forward in place" + dims, got, want, 0x1p-21, 0);
        }
        // The backward from the CPU's rstd: dw adds the rows in order in double as the C code does (exact); dx has a
        // tree-summed mean (within rounding; the cancellation in dy*w - xhat*mean is bounded by its terms).
        std::vector<float> dx_want(len, kUnwritten), dx_got = dx_want, dw_want((size_t)s.n, kUnwritten),
            dw_got = dw_want;
        sb_rmsnorm_backward(x.data(), w.data(), r_want.data(), dy.data(), s.rows, s.n, dx_want.data(), dw_want.data());
        if (launched("rmsnorm_backward" + dims, sbc_rmsnorm_backward(x.data(), w.data(), r_want.data(), dy.data(),
                                                                     s.rows, s.n, dx_got.data(), dw_got.data(),
                                                                     nullptr))) {
            std::vector<double> want(dx_want.begin(), dx_want.end()), tol(len);
            for (int64_t i = 0; i < s.rows; i++) {
                const double r = r_want[(size_t)i];
                double mean = 0;
                for (int64_t j = 0; j < s.n; j++)
                    mean += (double)dy[(size_t)(i * s.n + j)] * w[(size_t)j] * x[(size_t)(i * s.n + j)] * r;
                mean /= (double)s.n;
                for (int64_t j = 0; j < s.n; j++) { // the mean may round the other way: a few ulps of each term
                    const size_t e = (size_t)(i * s.n + j);
                    tol[e] = 0x1p-21 * fabs(r) * (fabs((double)dy[e] * w[(size_t)j]) + fabs(x[e] * r * mean));
                }
            }
            expect_within("rmsnorm_backward dx" + dims, dx_got.data(), want.data(), tol.data(), len);
            expect_exact("rmsnorm_backward dw" + dims, dw_got, dw_want);
        }
        {   // dx only, dw only
            std::vector<float> dxw(len, kUnwritten), dxg = dxw, dww((size_t)s.n, kUnwritten), dwg = dww;
            sb_rmsnorm_backward(x.data(), w.data(), r_want.data(), dy.data(), s.rows, s.n, nullptr, dww.data());
            if (launched("rmsnorm_backward dw only" + dims,
                         sbc_rmsnorm_backward(x.data(), w.data(), r_want.data(), dy.data(), s.rows, s.n, nullptr,
                                              dwg.data(), nullptr)))
                expect_exact("rmsnorm_backward dw only" + dims, dwg, dww);
            if (launched("rmsnorm_backward dx only" + dims,
                         sbc_rmsnorm_backward(x.data(), w.data(), r_want.data(), dy.data(), s.rows, s.n, dxg.data(),
                                              nullptr, nullptr)))
                expect_close("rmsnorm_backward dx only" + dims, dxg, dx_got, 0, 0);
        }
    }
    {   // rows == 0: dw is written with zeros
        std::vector<float> w(9, 1.0f), want(9, kUnwritten), got = want;
        sb_rmsnorm_backward(w.data(), w.data(), w.data(), w.data(), 0, 9, nullptr, want.data());
        if (launched("rmsnorm_backward 0 rows",
                     sbc_rmsnorm_backward(w.data(), w.data(), w.data(), w.data(), 0, 9, nullptr, got.data(), nullptr)))
            expect_exact("rmsnorm_backward 0 rows", got, want);
    }

    // RoPE: exact.
    struct RopeShape {
        int64_t rows, heads, head_dim;
    };
    for (RopeShape s : {RopeShape{1, 1, 2}, RopeShape{7, 3, 10}, RopeShape{5, 2, 64}, RopeShape{3, 4, 130}})
        for (float sign : {1.0f, -1.0f}) {
            const int64_t max_pos = 16, h = s.head_dim / 2;
            const size_t len = (size_t)(s.rows * s.heads * s.head_dim);
            const std::string dims = strf(" %lldx%lldx%lld sign=%g", (long long)s.rows, (long long)s.heads,
                                          (long long)s.head_dim, sign);
            auto x = random_floats(rng, len, -3, 3);
            auto ct = random_floats(rng, (size_t)(max_pos * h)), st = random_floats(rng, (size_t)(max_pos * h));
            auto pos = any_indices(rng, max_pos, s.rows);
            std::vector<float> want(len, kUnwritten), got = want;
            sb_rope(x.data(), s.rows, s.heads, s.head_dim, pos.data(), ct.data(), st.data(), max_pos, sign,
                    want.data());
            if (launched("rope" + dims, sbc_rope(x.data(), s.rows, s.heads, s.head_dim, pos.data(), ct.data(),
                                                 st.data(), max_pos, sign, got.data(), nullptr)))
                expect_exact("rope" + dims, got, want);
            auto want2 = x, got2 = x; // out aliases x
            sb_rope(want2.data(), s.rows, s.heads, s.head_dim, pos.data(), ct.data(), st.data(), max_pos, sign,
                    want2.data());
            if (launched("rope in place" + dims, sbc_rope(got2.data(), s.rows, s.heads, s.head_dim, pos.data(),
                                                          ct.data(), st.data(), max_pos, sign, got2.data(), nullptr)))
                expect_exact("rope in place" + dims, got2, want2);
        }

    // SwiGLU: CUDA's expf is not glibc's, so within a few ulps (the emulator uses glibc's: here they match).
    for (int64_t n : {1, 1000}) {
        const std::string sz = strf(" n=%lld", (long long)n);
        auto g = random_floats(rng, (size_t)n, -6, 6), u = random_floats(rng, (size_t)n, -2, 2);
        auto d = random_floats(rng, (size_t)n);
        std::vector<float> want((size_t)n, kUnwritten), got = want;
        sb_silu_mul_forward(g.data(), u.data(), n, want.data());
        if (launched("silu_mul_forward" + sz, sbc_silu_mul_forward(g.data(), u.data(), n, got.data(), nullptr)))
            expect_close("silu_mul_forward" + sz, got, want, 4 * 0x1p-23, 1e-30);
        std::vector<float> dgw((size_t)n, kUnwritten), dgg = dgw, duw = dgw, dug = dgw;
        sb_silu_mul_backward(g.data(), u.data(), d.data(), n, dgw.data(), duw.data());
        if (launched("silu_mul_backward" + sz,
                     sbc_silu_mul_backward(g.data(), u.data(), d.data(), n, dgg.data(), dug.data(), nullptr))) {
            expect_close("silu_mul_backward du" + sz, dug, duw, 4 * 0x1p-23, 1e-30);
            expect_close("silu_mul_backward dg" + sz, dgg, dgw, 16 * 0x1p-23, 1e-6 * max_abs(dgw));
        }
        std::vector<float> only((size_t)n, kUnwritten);
        if (launched("silu_mul_backward dg only" + sz,
                     sbc_silu_mul_backward(g.data(), u.data(), d.data(), n, only.data(), nullptr, nullptr)))
            expect_exact("silu_mul_backward dg only" + sz, only, dgg);
        std::fill(only.begin(), only.end(), kUnwritten);
        if (launched("silu_mul_backward du only" + sz,
                     sbc_silu_mul_backward(g.data(), u.data(), d.data(), n, nullptr, only.data(), nullptr)))
            expect_exact("silu_mul_backward du only" + sz, only, dug);
    }
}

// ---------------------------------------------------------------- attention

void test_attention() {
    Rng rng(6);
    struct Shape {
        int64_t batch, seq, heads, kv_heads, head_dim;
    };
    // head_dim 800: dk/dv accumulate in the output rows (two slices per warp would pass 48 KiB of shared memory);
    // 1600: the forward pass does too.
    for (Shape s : {Shape{1, 1, 1, 1, 1}, Shape{2, 13, 4, 2, 40}, Shape{1, 5, 2, 2, 33}, Shape{1, 3, 2, 1, 800},
                    Shape{1, 2, 1, 1, 1600}, Shape{1, 33, 3, 1, 16}}) {
        const std::string dims = strf(" b=%lld seq=%lld h=%lld kv=%lld d=%lld", (long long)s.batch, (long long)s.seq,
                                      (long long)s.heads, (long long)s.kv_heads, (long long)s.head_dim);
        const size_t nq = (size_t)(s.batch * s.seq * s.heads * s.head_dim);
        const size_t nk = (size_t)(s.batch * s.seq * s.kv_heads * s.head_dim);
        const size_t nl = (size_t)(s.batch * s.heads * s.seq);
        const float scale = 1.0f / sqrtf((float)s.head_dim) * 2.0f;
        auto q = random_floats(rng, nq), k = random_floats(rng, nk), v = random_floats(rng, nk);
        auto dout = random_floats(rng, nq);
        std::vector<float> ow(nq, kUnwritten), og = ow, lw(nl, kUnwritten), lg = lw;
        sb_attention_forward(q.data(), k.data(), v.data(), s.batch, s.seq, s.heads, s.kv_heads, s.head_dim, scale,
                             ow.data(), lw.data());
        if (!launched("attention_forward" + dims,
                      sbc_attention_forward(q.data(), k.data(), v.data(), s.batch, s.seq, s.heads, s.kv_heads,
                                            s.head_dim, scale, og.data(), lg.data(), nullptr)))
            continue;
        // Dot products summed in another order (a warp tree): relative to the size of what is summed.
        const double tol = 1e-6 * (double)s.head_dim;
        expect_close("attention_forward out" + dims, og, ow, tol, tol * max_abs(ow));
        expect_close("attention_forward lse" + dims, lg, lw, tol, tol);
        std::vector<float> dqw(nq, kUnwritten), dqg = dqw, dkw(nk, kUnwritten), dkg = dkw, dvw = dkw, dvg = dkw;
        sb_attention_backward(q.data(), k.data(), v.data(), ow.data(), lw.data(), dout.data(), s.batch, s.seq, s.heads,
                              s.kv_heads, s.head_dim, scale, dqw.data(), dkw.data(), dvw.data());
        if (!launched("attention_backward" + dims,
                      sbc_attention_backward(q.data(), k.data(), v.data(), ow.data(), lw.data(), dout.data(), s.batch,
                                             s.seq, s.heads, s.kv_heads, s.head_dim, scale, dqg.data(), dkg.data(),
                                             dvg.data(), nullptr)))
            continue;
        const double btol = tol * (double)s.seq;
        expect_close("attention_backward dq" + dims, dqg, dqw, btol, btol * max_abs(dqw));
        expect_close("attention_backward dk" + dims, dkg, dkw, btol, btol * max_abs(dkw));
        expect_close("attention_backward dv" + dims, dvg, dvw, btol, btol * max_abs(dvw));
    }
}

// Attention of new tokens against a cache: lengths per sequence, windows, GQA groups 1 and 4, one token and a
// chunk of several, head widths off the warp size.
void test_cached_attention() {
    Rng rng(16);
    struct Shape {
        int64_t batch, new_tokens, max_len, heads, kv_heads, head_dim, window;
    };
    for (Shape s : {Shape{1, 1, 1, 1, 1, 1, 0}, Shape{2, 1, 70, 4, 1, 16, 0}, Shape{3, 5, 40, 2, 2, 33, 0},
                    Shape{2, 3, 100, 8, 2, 64, 9}, Shape{1, 1, 129, 4, 4, 130, 0},
                    Shape{2, 2, 50, 12, 1, 20, 0}}) {
        const std::string dims = strf(" b=%lld t=%lld len=%lld h=%lld kv=%lld d=%lld w=%lld", (long long)s.batch,
                                      (long long)s.new_tokens, (long long)s.max_len, (long long)s.heads,
                                      (long long)s.kv_heads, (long long)s.head_dim, (long long)s.window);
        const size_t nq = (size_t)(s.batch * s.new_tokens * s.heads * s.head_dim);
        const size_t nk = (size_t)(s.batch * s.max_len * s.kv_heads * s.head_dim);
        const float scale = 1.0f / sqrtf((float)s.head_dim);
        auto q = random_floats(rng, nq), k = random_floats(rng, nk), v = random_floats(rng, nk);
        std::vector<int32_t> past((size_t)s.batch);
        for (int64_t b = 0; b < s.batch; b++) past[(size_t)b] = (int32_t)((s.max_len - s.new_tokens) * (b + 1) / s.batch);
        std::vector<float> ow(nq, kUnwritten), og = ow;
        sb_cached_attention(q.data(), k.data(), v.data(), past.data(), s.batch, s.new_tokens, s.max_len, s.heads,
                            s.kv_heads, s.head_dim, scale, s.window, ow.data());
        if (!launched("cached_attention" + dims,
                      sbc_cached_attention(q.data(), k.data(), v.data(), past.data(), s.batch, s.new_tokens,
                                           s.max_len, s.heads, s.kv_heads, s.head_dim, scale, s.window, og.data(),
                                           nullptr)))
            continue;
        const double tol = 1e-6 * (double)s.head_dim;
        expect_close("cached_attention out" + dims, og, ow, tol, tol * max_abs(ow));
    }
}

// ---------------------------------------------------------------- cross-entropy

void test_cross_entropy() {
    Rng rng(7);
    const int32_t ignore = -100;
    for (int64_t vocab : {1, 37, 1000, 3001}) {
        const int64_t rows = 6;
        const std::string dims = strf(" %lldx%lld", (long long)rows, (long long)vocab);
        auto z = random_floats(rng, (size_t)(rows * vocab), -6, 6);
        auto t = any_indices(rng, vocab, rows);
        t[1] = ignore;
        t[4] = ignore;
        std::vector<float> lw((size_t)rows, kUnwritten), lg = lw, sw = lw, sg = lw;
        sb_cross_entropy_forward(z.data(), t.data(), rows, vocab, ignore, lw.data(), sw.data());
        if (launched("cross_entropy_forward" + dims,
                     sbc_cross_entropy_forward(z.data(), t.data(), rows, vocab, ignore, lg.data(), sg.data(),
                                               nullptr))) {
            // lse: a double tree sum of double exps, rounded once (an ulp); loss = lse - z[t] (cancellation).
            expect_close("cross_entropy_forward lse" + dims, sg, sw, 0x1p-23, 0);
            expect_close("cross_entropy_forward loss" + dims, lg, lw, 0, 0x1p-23 * (max_abs(sw) + 6));
        }
        const float scale = 1.0f / 4;
        std::vector<float> dw(z.size(), kUnwritten), dg = dw;
        sb_cross_entropy_backward(z.data(), t.data(), sw.data(), rows, vocab, ignore, scale, dw.data());
        if (launched("cross_entropy_backward" + dims,
                     sbc_cross_entropy_backward(z.data(), t.data(), sw.data(), rows, vocab, ignore, scale, dg.data(),
                                                nullptr)))
            expect_close("cross_entropy_backward" + dims, dg, dw, 4 * 0x1p-23, 2 * 0x1p-24 * scale);
        auto in_place = z; // dlogits aliases logits
        if (launched("cross_entropy_backward in place" + dims,
                     sbc_cross_entropy_backward(in_place.data(), t.data(), sw.data(), rows, vocab, ignore, scale,
                                                in_place.data(), nullptr)))
            expect_exact("cross_entropy_backward in place" + dims, in_place, dg);
    }
}

// ---------------------------------------------------------------- NF4

void test_nf4() {
    Rng rng(8);
    struct Shape {
        int64_t n, block;
    };
    for (Shape s : {Shape{1, 2}, Shape{63, 64}, Shape{199, 64}, Shape{1000, 6}, Shape{777, 256}, Shape{130, 2}}) {
        const std::string dims = strf(" n=%lld block=%lld", (long long)s.n, (long long)s.block);
        auto x = random_floats(rng, (size_t)s.n, -3, 3);
        if (s.n > 100) {
            x[5] = -0.0f;
            x[17] = from_bits(0x7fc00000u); // NaN: skipped by the absmax, code 0
            x[(size_t)s.n - 2] = 0.0f;
        }
        const int64_t blocks = (s.n + s.block - 1) / s.block;
        std::vector<uint8_t> pw((size_t)((s.n + 1) / 2), 0xee), pg = pw;
        std::vector<float> aw((size_t)blocks, kUnwritten), ag = aw;
        sb_nf4_quantize(x.data(), s.n, s.block, pw.data(), aw.data());
        if (!launched("nf4_quantize" + dims, sbc_nf4_quantize(x.data(), s.n, s.block, pg.data(), ag.data(), nullptr)))
            continue;
        expect_bits("nf4_quantize codes" + dims, pg, pw);
        expect_exact("nf4_quantize absmax" + dims, ag, aw);
        for (int64_t start : {(int64_t)0, (int64_t)1, s.block - 1, s.block + 3, s.n / 2}) {
            if (start >= s.n) continue;
            for (int64_t count : {(int64_t)1, (int64_t)2, (int64_t)7, s.n - start}) {
                if (start + count > s.n) continue;
                const std::string what = strf("nf4_dequantize%s start=%lld count=%lld", dims.c_str(), (long long)start,
                                              (long long)count);
                std::vector<float> ow((size_t)count, kUnwritten), og = ow;
                sb_nf4_dequantize(pw.data(), aw.data(), start, count, s.block, ow.data());
                if (launched(what, sbc_nf4_dequantize(pw.data(), aw.data(), start, count, s.block, og.data(), nullptr)))
                    expect_exact(what, og, ow);
            }
        }
    }
}

// ---------------------------------------------------------------- AdamW

void test_adamw() {
    Rng rng(9);
    for (int64_t n : {1, 1000}) {
        const std::string sz = strf(" n=%lld", (long long)n);
        auto p = random_floats(rng, (size_t)n), g = random_floats(rng, (size_t)n, -0.1f, 0.1f);
        auto m = random_floats(rng, (size_t)n, -0.01f, 0.01f), v = random_floats(rng, (size_t)n, 0, 1e-3f);
        auto pg = p, mg = m, vg = v;
        const float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, step = 7;
        const float decay = 1.0f - lr * 0.01f, step_size = lr / (1.0f - powf(beta1, step));
        const float bc2 = sqrtf(1.0f - powf(beta2, step));
        sb_adamw_step(p.data(), g.data(), m.data(), v.data(), n, beta1, beta2, 1e-8f, decay, step_size, bc2);
        if (launched("adamw_step" + sz, sbc_adamw_step(pg.data(), g.data(), mg.data(), vg.data(), n, beta1, beta2,
                                                       1e-8f, decay, step_size, bc2, nullptr))) {
            expect_exact("adamw_step p" + sz, pg, p);
            expect_exact("adamw_step m" + sz, mg, m);
            expect_exact("adamw_step v" + sz, vg, v);
        }
    }
}

// ---------------------------------------------------------------- mixed precision (*_t)

const char *type_name(int t) { return t == SBC_BF16 ? "bf16" : "f32"; }

// Typed arrays as raw storage: f32 as floats, bf16 as uint16_t bit patterns.
struct Typed {
    int type;
    std::vector<float> f;
    std::vector<uint16_t> h;
    void *data() { return type == SBC_BF16 ? (void *)h.data() : (void *)f.data(); }
    float get(size_t i) const { return type == SBC_BF16 ? bf16_widen(h[i]) : f[i]; }
    void put(size_t i, float v) { // rounded once to the type
        if (type == SBC_BF16) h[i] = bf16_round(v);
        else f[i] = v;
    }
    size_t size() const { return type == SBC_BF16 ? h.size() : f.size(); }
};

Typed random_typed(Rng &rng, int type, size_t n, float lo = -1, float hi = 1) {
    Typed t{type, {}, {}};
    if (type == SBC_BF16) t.h = random_bf16(rng, n, lo, hi);
    else t.f = random_floats(rng, n, lo, hi);
    return t;
}

void expect_typed(const std::string &name, const Typed &got, const Typed &want) {
    if (got.type == SBC_BF16) expect_bf16(name, got.h, want.h);
    else expect_exact(name, got.f, want.f);
}

void test_typed() {
    Rng rng(10);
    const int types[] = {SBC_F32, SBC_BF16};
    for (int64_t n : {1, 257, 3001}) {
        const std::string sz = strf(" n=%lld", (long long)n);
        const size_t un = (size_t)n;

        // convert: f32 -> bf16 rounds once (specials and ties included); bf16 -> f32 is exact; same type copies.
        {
            auto x = random_floats(rng, un, -3, 3);
            sprinkle_specials(rng, x);
            static const uint32_t edge[] = {0x3f808000u, 0x3f818000u, 0x3f80c000u, 0x7f7fffffu, 0x7f7f8000u,
                                            0xff7fc000u, 0x00008000u, 0x00018000u, 0xffc00001u, 0x7fff0001u};
            for (size_t i = 0; i < un && i < 10; i++) x[i] = from_bits(edge[i]);
            std::vector<uint16_t> want(un), got(un, 0xdead);
            for (size_t i = 0; i < un; i++) want[i] = bf16_round(x[i]);
            if (launched("convert f32->bf16" + sz, sbc_convert(x.data(), SBC_F32, got.data(), SBC_BF16, n, nullptr)))
                expect_bits("convert f32->bf16" + sz, got, want);
            std::vector<uint16_t> hb(un);
            for (auto &b : hb) b = (uint16_t)rng.next(); // every pattern: NaNs, infinities, subnormals
            std::vector<float> fw(un), fg(un, kUnwritten);
            for (size_t i = 0; i < un; i++) fw[i] = bf16_widen(hb[i]);
            if (launched("convert bf16->f32" + sz, sbc_convert(hb.data(), SBC_BF16, fg.data(), SBC_F32, n, nullptr)))
                expect_bits("convert bf16->f32" + sz, fg, fw);
            std::vector<float> fc(un, kUnwritten);
            if (launched("convert f32->f32" + sz, sbc_convert(x.data(), SBC_F32, fc.data(), SBC_F32, n, nullptr)))
                expect_bits("convert f32->f32" + sz, fc, x);
            std::vector<uint16_t> hc(un, 0xdead);
            if (launched("convert bf16->bf16" + sz, sbc_convert(hb.data(), SBC_BF16, hc.data(), SBC_BF16, n, nullptr)))
                expect_bits("convert bf16->bf16" + sz, hc, hb);
        }
        // fill_t
        {
            std::vector<float> want(un), got(un);
            sbc_fill(want.data(), n, 0.1f, nullptr);
            if (launched("fill_t f32" + sz, sbc_fill_t(got.data(), SBC_F32, n, 0.1f, nullptr)))
                expect_bits("fill_t f32 = fill" + sz, got, want);
            std::vector<uint16_t> hw(un, bf16_round(0.1f)), hg(un);
            if (launched("fill_t bf16" + sz, sbc_fill_t(hg.data(), SBC_BF16, n, 0.1f, nullptr)))
                expect_bits("fill_t bf16" + sz, hg, hw);
        }
        // binary_t, scale_t
        {
            using Bin = int (*)(const float *, const float *, int64_t, float *, void *);
            const struct {
                int op;
                const char *name;
                Bin f32;
                float (*ref)(float, float);
            } ops[] = {{SBC_OP_ADD, "add", sbc_add, [](float a, float b) { return a + b; }},
                       {SBC_OP_SUB, "sub", sbc_sub, [](float a, float b) { return a - b; }},
                       {SBC_OP_MUL, "mul", sbc_mul, [](float a, float b) { return a * b; }},
                       {SBC_OP_DIV, "div", sbc_div, [](float a, float b) { return a / b; }}};
            auto a = random_floats(rng, un, -3, 3), b = random_floats(rng, un, -3, 3);
            sprinkle_specials(rng, a);
            auto ha = random_bf16(rng, un, -3, 3), hb = random_bf16(rng, un, -3, 3);
            if (n > 3) hb[2] = 0; // a division by zero
            for (const auto &op : ops) {
                std::vector<float> want(un, kUnwritten), got = want;
                op.f32(a.data(), b.data(), n, want.data(), nullptr);
                if (launched(std::string("binary_t f32 ") + op.name + sz,
                             sbc_binary_t(op.op, a.data(), b.data(), SBC_F32, n, got.data(), nullptr)))
                    expect_exact(std::string("binary_t f32 ") + op.name + " = " + op.name + sz, got, want);
                std::vector<uint16_t> hw(un), hg(un, 0xdead);
                for (size_t i = 0; i < un; i++) hw[i] = bf16_round(op.ref(bf16_widen(ha[i]), bf16_widen(hb[i])));
                if (launched(std::string("binary_t bf16 ") + op.name + sz,
                             sbc_binary_t(op.op, ha.data(), hb.data(), SBC_BF16, n, hg.data(), nullptr)))
                    expect_bf16(std::string("binary_t bf16 ") + op.name + sz, hg, hw);
            }
            report("binary_t bad op -> SBC_ERR_ARG" + sz,
                   sbc_binary_t(7, a.data(), b.data(), SBC_F32, n, a.data(), nullptr) == SBC_ERR_ARG);
            std::vector<float> want(un, kUnwritten), got = want;
            sbc_scale(a.data(), n, -0.3f, want.data(), nullptr);
            if (launched("scale_t f32" + sz, sbc_scale_t(a.data(), SBC_F32, n, -0.3f, got.data(), nullptr)))
                expect_exact("scale_t f32 = scale" + sz, got, want);
            std::vector<uint16_t> hw(un), hg(un, 0xdead);
            for (size_t i = 0; i < un; i++) hw[i] = bf16_round(bf16_widen(ha[i]) * -0.3f);
            if (launched("scale_t bf16" + sz, sbc_scale_t(ha.data(), SBC_BF16, n, -0.3f, hg.data(), nullptr)))
                expect_bf16("scale_t bf16" + sz, hg, hw);
        }
        // axpy_t, all four type pairs
        for (int xt : types)
            for (int yt : types) {
                const std::string name = strf("axpy_t x %s y %s%s", type_name(xt), type_name(yt), sz.c_str());
                Typed x = random_typed(rng, xt, un), y = random_typed(rng, yt, un);
                Typed want = y, got = y;
                if (xt == SBC_F32 && yt == SBC_F32) sbc_axpy(n, 0.75f, x.f.data(), want.f.data(), nullptr);
                else
                    for (size_t i = 0; i < un; i++) want.put(i, y.get(i) + 0.75f * x.get(i));
                if (launched(name, sbc_axpy_t(n, 0.75f, x.data(), xt, got.data(), yt, nullptr)))
                    expect_typed(name + (xt == SBC_F32 && yt == SBC_F32 ? " = axpy" : ""), got, want);
            }
        // sum_t, count_nonfinite_t
        {
            auto x = random_floats(rng, un, -2, 2);
            double want = 0, got = 1, xmag = 0;
            for (float v : x) xmag += fabs((double)v);
            sbc_sum(x.data(), n, &want, nullptr);
            // The same kernel, its blocks' partial sums added in another order (the emulator's order is random).
            if (launched("sum_t f32" + sz, sbc_sum_t(x.data(), SBC_F32, n, &got, nullptr)))
                report("sum_t f32 = sum" + sz, fabs(got - want) <= (double)(n + 1) * 0x1p-52 * xmag,
                       strf("got %.17g, want %.17g", got, want));
            auto h = random_bf16(rng, un, -2, 2);
            double exact = 0, mag = 0;
            for (auto b : h) {
                exact += bf16_widen(b);
                mag += fabs(bf16_widen(b));
            }
            if (launched("sum_t bf16" + sz, sbc_sum_t(h.data(), SBC_BF16, n, &got, nullptr)))
                report("sum_t bf16" + sz, fabs(got - exact) <= (double)(n + 1) * 0x1p-52 * mag,
                       strf("got %.17g, want %.17g", got, exact));
            sprinkle_specials(rng, x);
            int64_t cw = -1, cg = -2;
            sbc_count_nonfinite(x.data(), n, &cw, nullptr);
            if (launched("count_nonfinite_t f32" + sz, sbc_count_nonfinite_t(x.data(), SBC_F32, n, &cg, nullptr)))
                report("count_nonfinite_t f32 = count_nonfinite" + sz, cg == cw,
                       strf("got %lld, want %lld", (long long)cg, (long long)cw));
            for (size_t i = 0; i < un; i += 7) h[i] = (uint16_t)(0x7f80u | (rng.next() & 0x807fu)); // inf and NaN
            cw = 0;
            for (auto b : h) cw += !isfinite(bf16_widen(b));
            if (launched("count_nonfinite_t bf16" + sz, sbc_count_nonfinite_t(h.data(), SBC_BF16, n, &cg, nullptr)))
                report("count_nonfinite_t bf16" + sz, cg == cw,
                       strf("got %lld, want %lld", (long long)cg, (long long)cw));
        }
    }

    // Gathers and index-adds.
    const Shape3 shapes[] = {{1, 1, 1}, {33, 65, 65}, {130, 200, 37}, {300, 17, 9}};
    for (const Shape3 &s : shapes) {
        const std::string dims = strf(" %lldx%lld r=%lld", (long long)s.rows, (long long)s.cols, (long long)s.r);
        const int64_t ldx = s.cols + 2, ldo_c = s.r + 1, ldo_r = s.cols + 1;
        {
            auto x = random_floats(rng, (size_t)(s.rows * ldx));
            auto idx = any_indices(rng, s.cols, s.r);
            std::vector<float> want((size_t)(s.rows * ldo_c), kUnwritten), got = want;
            sbc_gather_cols(x.data(), s.rows, s.cols, ldx, idx.data(), s.r, want.data(), ldo_c, nullptr);
            if (launched("gather_cols_t f32" + dims, sbc_gather_cols_t(x.data(), SBC_F32, s.rows, s.cols, ldx,
                                                                       idx.data(), s.r, got.data(), ldo_c, nullptr)))
                expect_bits("gather_cols_t f32 = gather_cols" + dims, got, want);
            std::vector<uint16_t> hx(x.size());
            for (auto &b : hx) b = (uint16_t)rng.next();
            std::vector<uint16_t> hw((size_t)(s.rows * ldo_c), 0xdead), hg = hw;
            for (int64_t t = 0; t < s.rows; t++)
                for (int64_t j = 0; j < s.r; j++) hw[(size_t)(t * ldo_c + j)] = hx[(size_t)(t * ldx + idx[(size_t)j])];
            if (launched("gather_cols_t bf16" + dims, sbc_gather_cols_t(hx.data(), SBC_BF16, s.rows, s.cols, ldx,
                                                                        idx.data(), s.r, hg.data(), ldo_c, nullptr)))
                expect_bits("gather_cols_t bf16" + dims, hg, hw);
        }
        {
            auto x = random_floats(rng, (size_t)(s.rows * ldx));
            auto idx = any_indices(rng, s.rows, s.r);
            std::vector<float> want((size_t)(s.r * ldo_r), kUnwritten), got = want;
            sbc_gather_rows(x.data(), s.rows, s.cols, ldx, idx.data(), s.r, want.data(), ldo_r, nullptr);
            if (launched("gather_rows_t f32" + dims, sbc_gather_rows_t(x.data(), SBC_F32, s.rows, s.cols, ldx,
                                                                       idx.data(), s.r, got.data(), ldo_r, nullptr)))
                expect_bits("gather_rows_t f32 = gather_rows" + dims, got, want);
            std::vector<uint16_t> hx(x.size());
            for (auto &b : hx) b = (uint16_t)rng.next();
            std::vector<uint16_t> hw((size_t)(s.r * ldo_r), 0xdead), hg = hw;
            for (int64_t j = 0; j < s.r; j++)
                for (int64_t c = 0; c < s.cols; c++)
                    hw[(size_t)(j * ldo_r + c)] = hx[(size_t)(idx[(size_t)j] * ldx + c)];
            if (launched("gather_rows_t bf16" + dims, sbc_gather_rows_t(hx.data(), SBC_BF16, s.rows, s.cols, ldx,
                                                                        idx.data(), s.r, hg.data(), ldo_r, nullptr)))
                expect_bits("gather_rows_t bf16" + dims, hg, hw);
        }
        for (int dt : types)
            for (int st : types) {
                const std::string pair = strf(" dst %s src %s", type_name(dt), type_name(st));
                const bool f32 = dt == SBC_F32 && st == SBC_F32;
                const float alpha = -1.5f;
                {   // columns, distinct
                    const int64_t ldd = s.cols + 1, lds = s.r + 2;
                    Typed dst = random_typed(rng, dt, (size_t)(s.rows * ldd));
                    Typed src = random_typed(rng, st, (size_t)(s.rows * lds));
                    auto idx = distinct_indices(rng, s.cols, s.r);
                    Typed want = dst, got = dst;
                    if (f32)
                        sbc_index_add_cols(want.f.data(), s.rows, s.cols, ldd, idx.data(), s.r, src.f.data(), lds,
                                           alpha, nullptr);
                    else
                        for (int64_t t = 0; t < s.rows; t++)
                            for (int64_t j = 0; j < s.r; j++) {
                                const size_t d = (size_t)(t * ldd + idx[(size_t)j]);
                                want.put(d, dst.get(d) + alpha * src.get((size_t)(t * lds + j)));
                            }
                    const std::string name = "index_add_cols_t" + pair + dims;
                    if (launched(name, sbc_index_add_cols_t(got.data(), dt, s.rows, s.cols, ldd, idx.data(), s.r,
                                                            src.data(), st, lds, alpha, nullptr)))
                        expect_typed(name + (f32 ? " = index_add_cols" : ""), got, want);
                }
                for (int repeated : {0, 1}) { // rows
                    if (!repeated && s.r > s.rows) continue;
                    const int64_t ldd = s.cols + 3, lds = s.cols + 1;
                    Typed dst = random_typed(rng, dt, (size_t)(s.rows * ldd));
                    Typed src = random_typed(rng, st, (size_t)(s.r * lds));
                    auto idx = repeated ? any_indices(rng, s.rows, s.r) : distinct_indices(rng, s.rows, s.r);
                    Typed want = dst, got = dst;
                    std::vector<double> exact(dst.size()), tol(dst.size(), 0.0);
                    for (size_t e = 0; e < dst.size(); e++) exact[e] = dst.get(e);
                    for (int64_t j = 0; j < s.r; j++)
                        for (int64_t c = 0; c < s.cols; c++) {
                            const size_t d = (size_t)(idx[(size_t)j] * ldd + c);
                            const float term = alpha * src.get((size_t)(j * lds + c));
                            want.put(d, want.get(d) + term); // in j order, one rounding each
                            exact[d] += term;
                            tol[d] += fabs(term) + fabs(exact[d]);
                        }
                    const std::string name = strf("index_add_rows_t%s%s %s", pair.c_str(), dims.c_str(),
                                                  repeated ? "repeated" : "distinct");
                    if (!launched(name, sbc_index_add_rows_t(got.data(), dt, s.rows, s.cols, ldd, idx.data(), s.r,
                                                             src.data(), st, lds, alpha, nullptr)))
                        continue;
                    if (f32 && !repeated) {
                        Typed ref = dst;
                        sbc_index_add_rows(ref.f.data(), s.rows, s.cols, ldd, idx.data(), s.r, src.f.data(), lds,
                                           alpha, nullptr);
                        expect_typed(name + " = index_add_rows", got, ref);
                    }
                    if (!repeated) {
                        expect_typed(name, got, want);
                        continue;
                    }
                    // Repeated rows meet in no fixed order, each sum rounded to dst's type.
                    const double unit = dt == SBC_BF16 ? 0x1p-8 : 0x1p-24;
                    std::vector<float> g(got.size());
                    for (size_t e = 0; e < g.size(); e++) {
                        g[e] = got.get(e);
                        tol[e] = (tol[e] + fabs(exact[e])) * unit * 2;
                    }
                    expect_within(name, g.data(), exact.data(), tol.data(), g.size());
                }
            }
    }
}

// ---------------------------------------------------------------- fused SBoRA GEMMs

// The factor as the multiply sees it: f32, or rounded to bf16 against bf16 activations.
float factor(const std::vector<float> &f, size_t i, int type) {
    return type == SBC_BF16 ? bf16_widen(bf16_round(f[i])) : f[i];
}

// c[row, col] += alpha * sum_k A(k) * F(k): the expected values of `want` (an exact model of the SIMT kernel:
// f32 FMAs in k order, one rounding of c), plus the exact sum and a tolerance for the tensor cores (any summation
// order of exact bf16 products in f32, then one bf16 rounding).
struct GemmRef {
    Typed want;
    std::vector<double> exact, tol;
};

void gemm_element(GemmRef &ref, size_t at, int64_t kdim, const std::function<float(int64_t)> &a,
                  const std::function<float(int64_t)> &f, float alpha) {
    float acc = 0.0f;
    double sum = 0, mag = 0;
    for (int64_t k = 0; k < kdim; k++) {
        acc = fmaf(a(k), f(k), acc);
        sum += (double)a(k) * f(k);
        mag += fabs((double)a(k) * f(k));
    }
    const float c0 = ref.want.get(at);
    ref.want.put(at, c0 + alpha * acc);
    ref.exact[at] = c0 + (double)alpha * sum;
    const double err = (double)(kdim + 4) * 0x1p-24 * (fabs((double)alpha) * mag + fabs((double)c0));
    ref.tol[at] = 0x1p-8 * fabs(ref.exact[at]) + err * 1.01;
}

void expect_gemm(const std::string &name, const Typed &got, const GemmRef &ref, bool exact_model) {
    if (exact_model) return expect_typed(name, got, ref.want);
    std::vector<float> g(got.size());
    for (size_t e = 0; e < g.size(); e++) g[e] = got.get(e);
    // Elements the product does not reach have tolerance 0: they must keep their value.
    expect_within(name + " (tensor-core tolerance)", g.data(), ref.exact.data(), ref.tol.data(), g.size());
}

// The fused GEMMs with `kernel`: SBC_KERNEL_AUTO (bf16 on the tensor-core form) or SBC_KERNEL_SIMT.
void test_fused_on(int kernel) {
    Rng rng(11);
    const bool simt = kernel == SBC_KERNEL_SIMT;
    const char *form = simt ? " [simt]" : "";
    struct GatherShape {
        int64_t m, cols, r, n;
        bool xs;
    };
    // c[i, j] += alpha * sum_k x[i, idx[k]] * F(k, j)
    for (GatherShape s : {GatherShape{1, 1, 1, 1, true}, GatherShape{33, 70, 5, 65, true},
                          GatherShape{130, 300, 37, 200, true}, GatherShape{70, 16, 16, 64, false},
                          GatherShape{45, 50, 50, 3, true}, GatherShape{20, 40, 33, 0, true},
                          GatherShape{96, 64, 64, 130, false}, GatherShape{50, 120, 100, 17, true}})
        for (int type : {SBC_F32, SBC_BF16})
            for (int trans : {0, 1}) {
                const std::string name = strf("gather_gemm %s m=%lld cols=%lld r=%lld n=%lld trans_f=%d%s%s",
                                              type_name(type), (long long)s.m, (long long)s.cols, (long long)s.r,
                                              (long long)s.n, trans, s.xs ? " with xs" : "", form);
                const int64_t ldx = s.cols + 1, ldf = (trans ? s.r : s.n) + 2, ldc = s.n + 3, ldxs = s.r + 1;
                Typed x = random_typed(rng, type, (size_t)(s.m * ldx));
                auto f = random_floats(rng, (size_t)std::max<int64_t>(1, (trans ? s.n : s.r) * ldf)); // never NULL
                auto idx = s.r == s.cols ? distinct_indices(rng, s.cols, s.r) : any_indices(rng, s.cols, s.r);
                Typed c = random_typed(rng, type, (size_t)(s.m * ldc), -4, 4);
                Typed xs = random_typed(rng, type, s.xs ? (size_t)(s.m * ldxs) : 0);
                const float alpha = -0.75f;
                GemmRef ref{c, std::vector<double>(c.size()), std::vector<double>(c.size(), 0.0)};
                for (size_t e = 0; e < c.size(); e++) ref.exact[e] = c.get(e);
                for (int64_t i = 0; i < s.m; i++)
                    for (int64_t j = 0; j < s.n; j++)
                        gemm_element(ref, (size_t)(i * ldc + j), s.r,
                                     [&](int64_t k) { return x.get((size_t)(i * ldx + idx[(size_t)k])); },
                                     [&](int64_t k) {
                                         return factor(f, (size_t)(trans ? j * ldf + k : k * ldf + j), type);
                                     },
                                     alpha);
                Typed xs_want = xs;
                if (s.xs)
                    for (int64_t i = 0; i < s.m; i++)
                        for (int64_t k = 0; k < s.r; k++) {
                            const size_t from = (size_t)(i * ldx + idx[(size_t)k]), to = (size_t)(i * ldxs + k);
                            if (type == SBC_BF16) xs_want.h[to] = x.h[from];
                            else xs_want.f[to] = x.f[from];
                        }
                Typed got = c;
                if (!launched(name, sbc_gather_gemm(type, x.data(), s.m, ldx, idx.data(), s.r, f.data(), ldf, trans,
                                                    s.n, alpha, got.data(), ldc, s.xs ? xs.data() : nullptr, ldxs,
                                                    kernel, nullptr)))
                    continue;
                expect_gemm(name, got, ref, type == SBC_F32 || simt);
                if (s.xs) {
                    if (type == SBC_BF16) expect_bits(name + ": xs", xs.h, xs_want.h);
                    else expect_bits(name + ": xs", xs.f, xs_want.f);
                }
            }

    struct ScatterShape {
        int64_t m, kdim, r, cols;
    };
    // c[i, idx[j]] += alpha * sum_k a[i, k] * F(k, j), idx distinct
    for (ScatterShape s : {ScatterShape{1, 1, 1, 1}, ScatterShape{33, 65, 5, 70}, ScatterShape{130, 200, 37, 300},
                           ScatterShape{70, 16, 100, 100}, ScatterShape{45, 33, 64, 64}, ScatterShape{64, 40, 65, 80}})
        for (int type : {SBC_F32, SBC_BF16})
            for (int trans : {0, 1}) {
                const std::string name = strf("gemm_scatter %s m=%lld k=%lld r=%lld cols=%lld trans_f=%d%s",
                                              type_name(type), (long long)s.m, (long long)s.kdim, (long long)s.r,
                                              (long long)s.cols, trans, form);
                const int64_t lda = s.kdim + 3, ldf = (trans ? s.kdim : s.r) + 1, ldc = s.cols + 2;
                Typed a = random_typed(rng, type, (size_t)(s.m * lda));
                auto f = random_floats(rng, (size_t)((trans ? s.r : s.kdim) * ldf));
                auto idx = distinct_indices(rng, s.cols, s.r);
                Typed c = random_typed(rng, type, (size_t)(s.m * ldc), -4, 4);
                const float alpha = 1.5f;
                GemmRef ref{c, std::vector<double>(c.size()), std::vector<double>(c.size(), 0.0)};
                for (size_t e = 0; e < c.size(); e++) ref.exact[e] = c.get(e);
                for (int64_t i = 0; i < s.m; i++)
                    for (int64_t j = 0; j < s.r; j++)
                        gemm_element(ref, (size_t)(i * ldc + idx[(size_t)j]), s.kdim,
                                     [&](int64_t k) { return a.get((size_t)(i * lda + k)); },
                                     [&](int64_t k) {
                                         return factor(f, (size_t)(trans ? j * ldf + k : k * ldf + j), type);
                                     },
                                     alpha);
                Typed got = c;
                if (launched(name, sbc_gemm_scatter(type, a.data(), s.m, s.kdim, lda, f.data(), ldf, trans, idx.data(),
                                                    s.r, alpha, got.data(), ldc, kernel, nullptr)))
                    expect_gemm(name, got, ref, type == SBC_F32 || simt);
            }
}

void test_fused() {
    test_fused_on(SBC_KERNEL_AUTO);
    test_fused_on(SBC_KERNEL_SIMT);
}

} // namespace

int main(int argc, char **argv) {
    const struct {
        const char *name;
        void (*run)();
    } groups[] = {{"runtime", test_runtime},   {"status", test_status},         {"index", test_index},
                  {"elementwise", test_elementwise}, {"reductions", test_reductions}, {"matrix", test_matrix},
                  {"layers", test_layers},     {"attention", test_attention},   {"cached_attention", test_cached_attention},   {"cross_entropy", test_cross_entropy},
                  {"nf4", test_nf4},           {"adamw", test_adamw},           {"typed", test_typed},
                  {"fused", test_fused}};
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-x") == 0) {
        stop_at_first_failure = true;
        first = 2;
    }
    argc -= first - 1;
    argv += first - 1;
    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (const auto &g : groups) known |= strcmp(argv[i], g.name) == 0;
        if (!known) {
            fprintf(stderr, "unknown group %s\n", argv[i]);
            return 2;
        }
    }
    const auto start = std::chrono::steady_clock::now();
    for (const auto &g : groups) {
        bool wanted = argc == 1;
        for (int i = 1; i < argc; i++) wanted |= strcmp(argv[i], g.name) == 0;
        if (!wanted) continue;
        const auto t0 = std::chrono::steady_clock::now();
        g.run();
        printf("# %s: %.2f s\n", g.name, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    printf("# %d checks, %d failed, %.1f s, blocks in the order of SBC_EMU_SEED=%llu\n", checks, failures,
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
           (unsigned long long)sbc_emu_seed());
    return failures == 0 ? 0 : 1;
}

#if defined(__SANITIZE_ADDRESS__)
// The fibers' stacks are annotated for ASan; leak checking needs ptrace, which containers often forbid.
extern "C" const char *__asan_default_options() { return "detect_leaks=0"; }
#endif
