// cuda_emu.h - a host emulation of exactly the CUDA subset that cuda-kernels/src uses, so that the kernels can be
// compiled as plain C++ (after emulate.py rewrites their launches) and checked against the CPU kernels on a machine
// without a GPU. See cuda-kernels/README.md, "Emulated tests", for what this does and does not prove.
//
// Execution model (cuda_emu.cpp): a launch runs its blocks in a random order (a permutation drawn from the run's
// seed, SBC_EMU_SEED, and the launch number), up to kResidentBlocks of them at once, interleaved on one OS thread.
// Each CUDA thread is a fiber (a stack of its own) that runs until it finishes, waits at __syncthreads, at a
// warp-level operation (__syncwarp, __shfl_xor_sync, the wmma calls) or yields at an atomic operation; a barrier
// releases when every thread it concerns waits there. The scheduler makes passes over the resident blocks in a
// random order; in a pass each warp of a block runs as far as it can (through its warp-level operations), warps and
// lanes in order in one block and in reverse order in the next (a one-block launch alternates from call to call), so
// that a missing barrier makes some thread read data that is not written yet. Threads that yielded run again in the
// next pass, after the other resident blocks had their turn: atomics of different threads and blocks interleave, so
// that a read-modify-write that is not atomic (sbc_emu::plain_add, a load and a store with a yield between them)
// loses updates, and a block that reads what another block of the same launch writes sees it unwritten in some
// orders. A barrier that cannot release (some threads exited, or wait at another kind of barrier) stops the process
// with a message naming the seed. Shared memory is per resident block, poisoned with 0xff bytes (NaN for float,
// double and bf16) at the start of every block, and ends at an inaccessible page. Since the fibers switch only at
// those points, a race between plain loads and stores rarely changes a result here; the race checker (below) looks
// at the accesses themselves instead.
//
// Only one thread runs at a time, so an atomic operation itself needs no hardware atomicity.
#ifndef SBC_CUDA_EMU_H
#define SBC_CUDA_EMU_H

// The emulated build plays nvcc's device pass: kernels take their device branches.
#ifndef __CUDA_ARCH__
#define __CUDA_ARCH__ 900
#endif

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmath>
#include <tuple>
#include <type_traits>
#include <utility>

// ---- qualifiers ----
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __constant__
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// emulate.py rewrites `__shared__ T name[...];` (to a SharedArray below) and `extern __shared__ T name[];`, and
// refuses any other use, which would be one variable shared by every resident block.

// ---- thread coordinates ----
struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
// Set by the scheduler before it resumes a thread (all threads run on one OS thread, one at a time).
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;
constexpr int warpSize = 32;

// ---- runtime types ----
enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidMemcpyDirection = 21,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidDevice = 101,
    cudaErrorInvalidResourceHandle = 400,
    cudaErrorIllegalAddress = 700,
    cudaErrorLaunchFailure = 719,
};
typedef cudaError cudaError_t;
enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4,
};
struct CUstream_st;
typedef CUstream_st *cudaStream_t;
struct cudaDeviceProp {
    char name[256];
    int major, minor;
};

cudaError_t cudaGetDeviceCount(int *count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device);
const char *cudaGetErrorName(cudaError_t e);
const char *cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError();
cudaError_t cudaMalloc(void **ptr, size_t bytes);
cudaError_t cudaFree(void *ptr);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = 0);
cudaError_t cudaMemsetAsync(void *ptr, int value, size_t bytes, cudaStream_t stream = 0);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaStreamCreate(cudaStream_t *stream);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);

// Bytes from p to the end of the cudaMalloc block that holds it, or -1 when p is not device memory. Exported, so that
// the cuBLAS stand-in (cublas_emu.cpp) checks its matrices against the blocks they lie in.
extern "C" __attribute__((visibility("default"))) int64_t sbc_emu_device_bytes(const void *p);
// The seed of this process's block orders (SBC_EMU_SEED, or one drawn at the first launch and told on stderr).
extern "C" __attribute__((visibility("default"))) uint64_t sbc_emu_seed(void);
// The race checker's hazards since the last call (each failed its launch), with the first one's report in buf.
extern "C" __attribute__((visibility("default"))) int sbc_emu_take_races(char *buf, size_t bytes);

// ---- the emulator's entry points (cuda_emu.cpp) ----
namespace sbc_emu {

// Blocks of a launch that run at the same time, interleaved (a GPU runs many; two suffice for a lost update).
constexpr unsigned kResidentBlocks = 4;

struct LaunchConfig {
    dim3 grid;
    dim3 block;
    size_t smem = 0;
    cudaStream_t stream = nullptr;
};

// Runs body(ctx) as every thread of every block of the grid (synchronously); a bad configuration sets the last
// error instead, as a failed launch does.
void run_grid(const char *kernel, const LaunchConfig &cfg, void (*body)(void *), void *ctx);

// Whether a kernel's pointer argument (number `index`, from 1) may be dereferenced on the device: NULL or inside a
// cudaMalloc block. Checked in the shared library only (SBC_EMU_LIBRARY), where every buffer comes from cudaMalloc;
// sbc_emu_tests passes host vectors. A failure is reported on stderr and the launch fails with
// cudaErrorIllegalAddress, the error a GPU gives for a host pointer (at the next synchronisation).
bool device_pointer_argument(const char *kernel, int index, const void *p);
template <typename T>
bool device_argument(const char *kernel, int index, const T &v) {
    if constexpr (std::is_pointer<T>::value) return device_pointer_argument(kernel, index, (const void *)v);
    return true;
}

// What emulate.py turns `kernel<<<cfg>>>(args)` into: the arguments are evaluated once, as for a real launch, and
// every thread calls the kernel with its own copies of them.
template <typename F, typename... A>
void launch(const char *kernel, const LaunchConfig &cfg, F &&f, A &&...args) {
    std::tuple<std::decay_t<A>...> params(std::forward<A>(args)...);
    const bool pointers_ok = std::apply(
        [&](const auto &...a) {
            int index = 0;
            bool ok = true;
            ((ok = device_argument(kernel, ++index, a) && ok), ...);
            return ok;
        },
        params);
    if (!pointers_ok) return;
    auto call = [&] { std::apply(f, params); }; // the kernel's by-value parameters copy the tuple's elements
    run_grid(kernel, cfg, [](void *c) { (*static_cast<decltype(call) *>(c))(); }, &call);
}

void *dynamic_shared(); // the calling block's dynamic shared memory (extern __shared__)

// Shared memory ends just before an inaccessible page, so that an overrun faults at once, and it is poisoned with
// 0xff bytes (NaN as float, double and bf16) at the start of every block, so that reading what no thread of the
// block has written shows. Each resident block has its own. It all lies in one reserved range, so that the race
// checker (below) tells a shared access from a global one by its address; `name` is what a race report calls it.
void *shared_alloc(size_t bytes, size_t align, const char *name); // never freed
unsigned block_slot();                                            // the calling thread's block: which resident one
uint64_t block_serial(); // the calling thread's block run (a new one for every block)
void poison(void *p, size_t bytes);

// The race checker (cuda_emu.cpp, "race checker"), in the spirit of compute-sanitizer's racecheck. The kernels'
// translation units are compiled with -fsanitize=thread, with no ThreadSanitizer runtime: its instrumentation calls
// __tsan_read4(addr), __tsan_write8(addr), ... before every load and store, and cuda_emu.cpp defines those hooks. A
// shared-memory access is checked against the earlier accesses of its block to the same bytes, a global one against
// those of the whole launch; a hazard (two threads, at least one writing, not ordered by a __syncthreads or, in one
// warp, a __syncwarp; two atomics never race) is reported and fails the launch (cudaErrorLaunchFailure).
// SBC_EMU_RACECHECK=0 turns it off. The emulated atomics below are not instrumented: they report themselves.
void race_atomic(const void *p, size_t bytes);
#define SBC_EMU_NOT_TRACED __attribute__((no_sanitize("thread")))

// `__shared__ __align__(N) T name[D];` becomes `static SharedArray<T[D], N> s{"name"}; T (&name)[D] = s.get();`: one
// array per resident block.
template <typename A, size_t Align = 0>
struct SharedArray {
    const char *name;
    void *mem[kResidentBlocks] = {};
    uint64_t serial[kResidentBlocks] = {};
    constexpr explicit SharedArray(const char *n) : name(n) {}
    SBC_EMU_NOT_TRACED A &get() { // the emulator's bookkeeping, not the kernel's accesses
        const unsigned slot = block_slot();
        if (mem[slot] == nullptr)
            mem[slot] = shared_alloc(sizeof(A), Align != 0 ? Align : alignof(std::remove_all_extents_t<A>), name);
        if (serial[slot] != block_serial()) {
            poison(mem[slot], sizeof(A));
            serial[slot] = block_serial();
        }
        return *static_cast<A *>(mem[slot]);
    }
};
// Lets the other threads and resident blocks run before the caller goes on (in the next pass of the scheduler);
// nothing outside a kernel.
void yield();
void sync_block();
void sync_warp(unsigned mask);
uint64_t shfl_xor(unsigned mask, uint64_t v, int lane_mask, int width);
void wmma_converge(); // a warp-collective operation: every lane of the warp must reach it
unsigned lane_id();
[[noreturn]] void fault(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

} // namespace sbc_emu

// ---- synchronisation and warp exchange ----
inline void __syncthreads() { sbc_emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { sbc_emu::sync_warp(mask); }

template <typename T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = warpSize) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "32- or 64-bit shuffles only");
    uint64_t in = 0;
    memcpy(&in, &v, sizeof v);
    const uint64_t out = sbc_emu::shfl_xor(mask, in, lane_mask, width);
    T r;
    memcpy(&r, &out, sizeof r);
    return r;
}

// ---- atomics: each yields first, so that atomics of different threads and blocks interleave in no fixed order, then
// reads, modifies and writes at once (one thread runs at a time, so that is atomic) ----
template <typename T>
SBC_EMU_NOT_TRACED inline T sbc_emu_atomic_add(T *p, T v) {
    sbc_emu::yield();
    sbc_emu::race_atomic(p, sizeof(T));
    const T old = *p;
    *p = old + v;
    return old;
}
inline float atomicAdd(float *p, float v) { return sbc_emu_atomic_add(p, v); }
inline double atomicAdd(double *p, double v) { return sbc_emu_atomic_add(p, v); }
inline unsigned long long atomicAdd(unsigned long long *p, unsigned long long v) { return sbc_emu_atomic_add(p, v); }
inline int atomicAdd(int *p, int v) { return sbc_emu_atomic_add(p, v); }
inline unsigned atomicAdd(unsigned *p, unsigned v) { return sbc_emu_atomic_add(p, v); }
template <typename T>
SBC_EMU_NOT_TRACED inline T sbc_emu_cas(T *p, T compare, T value) {
    sbc_emu::yield();
    sbc_emu::race_atomic(p, sizeof(T));
    const T old = *p;
    if (old == compare) *p = value;
    return old;
}
template <typename T>
SBC_EMU_NOT_TRACED inline T sbc_emu_exch(T *p, T value) {
    sbc_emu::yield();
    sbc_emu::race_atomic(p, sizeof(T));
    const T old = *p;
    *p = value;
    return old;
}
inline int atomicExch(int *p, int v) { return sbc_emu_exch(p, v); }
inline unsigned atomicExch(unsigned *p, unsigned v) { return sbc_emu_exch(p, v); }
inline unsigned short atomicCAS(unsigned short *p, unsigned short c, unsigned short v) { return sbc_emu_cas(p, c, v); }
inline unsigned atomicCAS(unsigned *p, unsigned c, unsigned v) { return sbc_emu_cas(p, c, v); }
inline int atomicCAS(int *p, int c, int v) { return sbc_emu_cas(p, c, v); }
inline unsigned long long atomicCAS(unsigned long long *p, unsigned long long c, unsigned long long v) {
    return sbc_emu_cas(p, c, v);
}

namespace sbc_emu {
// `*p += v` as a GPU runs it: a load, then a store, with other threads running in between (here: a yield). The
// kernels never use it; emulate.py's atomic_as_plain_add mutant puts it where an atomicAdd was, to show that the
// emulator loses the updates such a race loses.
template <typename T>
inline T plain_add(T *p, T v) {
    const T old = *p;
    yield();
    *p = old + v;
    return old;
}
} // namespace sbc_emu

// ---- arithmetic: each intrinsic is one IEEE operation (compile with -ffp-contract=off, so none is fused) ----
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __dsqrt_rn(double a) { return sqrt(a); }
inline unsigned __float_as_uint(float f) {
    unsigned u;
    memcpy(&u, &f, sizeof u);
    return u;
}
inline float __uint_as_float(unsigned u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
inline int __float_as_int(float f) { return (int)__float_as_uint(f); }
inline float __int_as_float(int i) { return __uint_as_float((unsigned)i); }

// ---- bfloat16 (cuda_bf16.h) ----
struct __nv_bfloat16 {
    unsigned short x;
};
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.x; }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short u) { return __nv_bfloat16{u}; }
inline float __bfloat162float(__nv_bfloat16 h) { return __uint_as_float((unsigned)h.x << 16); }
// Round to nearest even; every NaN becomes the canonical 0x7fff, as CUDA's does.
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    const unsigned u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return __nv_bfloat16{0x7fff};
    return __nv_bfloat16{(unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16)};
}

// ---- nvcuda::wmma (mma.h), 16 x 16 x 16 with f32 accumulators ----
// A fragment has room for the whole 16 x 16 tile. load_matrix_sync fills all of it in every lane (identical values,
// so that is harmless); an accumulator element belongs to one lane, as the hardware spreads a fragment over the
// warp (here as mma.sync's m16n8k16 accumulators do: row r, column c to lane (r % 8) * 4 + (c % 8) / 2, eight
// elements each): mma_sync computes and store_matrix_sync writes only the lane's own elements, so that a reader of
// another lane's elements needs a __syncwarp first. Every call waits for the whole warp (they are
// warp-collective), and the pointer and leading-dimension rules of the real API are checked.
namespace nvcuda {
namespace wmma {

struct row_major {};
struct col_major {};
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
    static_assert(M == 16 && N == 16 && K == 16, "the emulator knows the 16 x 16 x 16 shape only");
    static constexpr int num_elements = 256;
    float v[16][16]; // matrix_a: [row][k]; matrix_b: [k][col]; accumulator: [row][col]
};

namespace detail {
inline unsigned owner(unsigned row, unsigned col) { return (row % 8) * 4 + (col % 8) / 2; }
inline float widen(float v) { return v; }
inline float widen(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T>
inline void check_pointer(const T *p, unsigned ldm, const char *what) {
    const unsigned per_16_bytes = 16 / sizeof(T); // ldm: a multiple of 16 bytes (8 bf16 or 4 floats)
    if (reinterpret_cast<uintptr_t>(p) % 32 != 0)
        sbc_emu::fault("wmma::%s: pointer %p is not 32-byte aligned", what, (const void *)p);
    if (ldm % per_16_bytes != 0) sbc_emu::fault("wmma::%s: ldm %u is not a multiple of %u", what, ldm, per_16_bytes);
}
} // namespace detail

template <typename Use, typename T, typename Layout> // per thread, not warp-collective
inline void fill_fragment(fragment<Use, 16, 16, 16, T, Layout> &f, float value) {
    for (auto &row : f.v)
        for (float &e : row) e = value;
}

// matrix_a and matrix_b: element (i, j) of the stored tile is p[i * ldm + j] (row_major) or p[j * ldm + i].
template <typename Use, typename T, typename Layout>
inline void load_matrix_sync(fragment<Use, 16, 16, 16, T, Layout> &f, const T *p, unsigned ldm) {
    static_assert(std::is_same<Layout, row_major>::value || std::is_same<Layout, col_major>::value,
                  "matrix_a / matrix_b fragments carry their layout");
    detail::check_pointer(p, ldm, "load_matrix_sync");
    sbc_emu::wmma_converge();
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            f.v[i][j] = detail::widen(std::is_same<Layout, row_major>::value ? p[i * ldm + j] : p[j * ldm + i]);
}

// d = a * b + c on the lane's elements; products of bf16 values are exact in f32, the sums are f32 in k order.
template <typename TA, typename LA, typename TB, typename LB>
inline void mma_sync(fragment<accumulator, 16, 16, 16, float> &d, const fragment<matrix_a, 16, 16, 16, TA, LA> &a,
                     const fragment<matrix_b, 16, 16, 16, TB, LB> &b,
                     const fragment<accumulator, 16, 16, 16, float> &c) {
    sbc_emu::wmma_converge();
    const unsigned lane = sbc_emu::lane_id();
    for (unsigned i = 0; i < 16; i++)
        for (unsigned j = 0; j < 16; j++) {
            if (detail::owner(i, j) != lane) continue; // d may be c: each element reads only itself
            float s = c.v[i][j];
            for (int k = 0; k < 16; k++) s = fmaf(a.v[i][k], b.v[k][j], s);
            d.v[i][j] = s;
        }
}

inline void store_matrix_sync(float *p, const fragment<accumulator, 16, 16, 16, float> &f, unsigned ldm,
                              layout_t layout) {
    detail::check_pointer(p, ldm, "store_matrix_sync");
    sbc_emu::wmma_converge();
    const unsigned lane = sbc_emu::lane_id();
    for (unsigned i = 0; i < 16; i++)
        for (unsigned j = 0; j < 16; j++)
            if (detail::owner(i, j) == lane) p[layout == mem_row_major ? i * ldm + j : j * ldm + i] = f.v[i][j];
}

} // namespace wmma
} // namespace nvcuda

#endif
