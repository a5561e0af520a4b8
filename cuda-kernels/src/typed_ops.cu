// Mixed precision: the elementwise, reduction and SBoRA index kernels on f32 or bf16 arrays, the types given at run
// time. Each kernel is a template over the element types: it loads as f32 (bf16 widens exactly), computes with the
// same round-to-nearest intrinsics as the f32 kernel of the same name and stores with one rounding to the output's
// type, so that where every type is f32 the result equals the f32 launcher's bit for bit. The launchers check the
// type codes with the other scalar arguments, before the early return on empty sizes, and dispatch on them.
// out may alias an input in the elementwise kernels of one type (each thread reads its element before writing it).
#include "sbc_internal.cuh"

using namespace sbc;

namespace {

template <typename T>
struct Tag {
    using type = T;
};

// f(Tag<T>{}) with T the element type of a valid type code.
template <typename F>
int with_type(int type, F &&f) {
    switch (type) {
    case SBC_BF16: return f(Tag<__nv_bfloat16>{});
    default: return f(Tag<float>{});
    }
}

// f(Tag<A>{}, Tag<B>{}) for two valid type codes: the four combinations.
template <typename F>
int with_types(int a, int b, F &&f) {
    return with_type(a, [&](auto ta) { return with_type(b, [&](auto tb) { return f(ta, tb); }); });
}

template <typename X, typename O>
__global__ void convert_kernel(const X *__restrict__ x, int64_t n, O *__restrict__ out) {
    for (int64_t i = global_id(); i < n; i += global_stride()) store_f32(out + i, load_f32(x + i));
}

template <typename T>
__global__ void fill_t_kernel(T *x, int64_t n, float value) {
    for (int64_t i = global_id(); i < n; i += global_stride()) store_f32(x + i, value);
}

template <typename Op, typename T>
__global__ void binary_t_kernel(const T *a, const T *b, int64_t n, T *out) {
    const Op op{};
    for (int64_t i = global_id(); i < n; i += global_stride()) store_f32(out + i, op(load_f32(a + i), load_f32(b + i)));
}

template <typename T>
__global__ void scale_t_kernel(const T *x, int64_t n, float s, T *out) {
    for (int64_t i = global_id(); i < n; i += global_stride()) store_f32(out + i, __fmul_rn(load_f32(x + i), s));
}

// y += alpha * x: a product, then a sum, each rounded in f32; the sum rounded once more to y's type.
template <typename X, typename Y>
__global__ void axpy_t_kernel(int64_t n, float alpha, const X *x, Y *y) {
    for (int64_t i = global_id(); i < n; i += global_stride())
        store_f32(y + i, __fadd_rn(load_f32(y + i), __fmul_rn(alpha, load_f32(x + i))));
}

template <typename T>
__global__ void sum_t_kernel(const T *__restrict__ x, int64_t n, double *out) {
    __shared__ double scratch[33];
    double s = 0.0;
    for (int64_t i = global_id(); i < n; i += global_stride()) s += (double)load_f32(x + i);
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) atomicAdd(out, s);
}

template <typename T>
__global__ void nonfinite_t_kernel(const T *__restrict__ x, int64_t n, int64_t *out) {
    __shared__ long long scratch[33];
    long long c = 0;
    for (int64_t i = global_id(); i < n; i += global_stride()) c += !isfinite(load_f32(x + i));
    c = block_sum(c, scratch);
    if (threadIdx.x == 0 && c != 0) atomicAdd((unsigned long long *)out, (unsigned long long)c);
}

// The gathers copy elements without looking at them: B is an unsigned integer of the element's size.
template <typename B>
__global__ void gather_cols_t_kernel(const B *__restrict__ x, int64_t ldx, const int32_t *__restrict__ idx,
                                     int64_t rows, int64_t r, B *__restrict__ out, int64_t ldo, const int *fault) {
    if (*fault) return; // an index is out of range (check_indices): touch nothing
    const int64_t total = rows * r;
    for (int64_t e = global_id(); e < total; e += global_stride()) {
        const int64_t t = e / r, j = e - t * r;
        out[t * ldo + j] = x[t * ldx + idx[j]];
    }
}

template <typename B>
__global__ void gather_rows_t_kernel(const B *__restrict__ x, int64_t ldx, const int32_t *__restrict__ idx,
                                     int64_t r, int64_t cols, B *__restrict__ out, int64_t ldo, const int *fault) {
    if (*fault) return;
    const int64_t total = r * cols;
    for (int64_t e = global_id(); e < total; e += global_stride()) {
        const int64_t j = e / cols, c = e - j * cols;
        out[j * ldo + c] = x[(int64_t)idx[j] * ldx + c];
    }
}

// dst[t, idx[j]] += alpha * src[t, j]; indices distinct, so no two threads touch the same element (bf16 stores are
// 16 bits wide and leave their neighbours alone).
template <typename D, typename S>
__global__ void index_add_cols_t_kernel(D *dst, int64_t ldd, const int32_t *__restrict__ idx, int64_t rows,
                                        int64_t r, const S *src, int64_t lds, float alpha, const int *fault) {
    if (*fault) return;
    const int64_t total = rows * r;
    for (int64_t e = global_id(); e < total; e += global_stride()) {
        const int64_t t = e / r, j = e - t * r;
        D *d = dst + t * ldd + idx[j];
        store_f32(d, __fadd_rn(load_f32(d), __fmul_rn(alpha, load_f32(src + t * lds + j))));
    }
}

// *p += v atomically. f32: atomicAdd, as index_add_rows. bf16: a compare-and-swap loop that rounds the f32 sum
// once, as the non-atomic kernels do (atomicAdd on bf16 would round v to bf16 first, then the sum: twice). Either
// way repeated indices accumulate in no fixed order, each addition rounded to dst's type: with bf16 the result
// depends on that order more than with f32.
__device__ __forceinline__ void atomic_add_f32(float *p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add_f32(__nv_bfloat16 *p, float v) {
    unsigned short *bits = reinterpret_cast<unsigned short *>(p);
    unsigned short old = *bits, assumed;
    do {
        assumed = old;
        const float sum = __fadd_rn(__uint_as_float((unsigned)assumed << 16), v);
        old = atomicCAS(bits, assumed, bf16_bits_rn(sum));
    } while (old != assumed); // compares bits, so a NaN in dst ends the loop too
}

// dst[idx[j], c] += alpha * src[j, c]; repeated indices accumulate through atomics (in no fixed order).
template <typename D, typename S>
__global__ void index_add_rows_t_kernel(D *dst, int64_t ldd, const int32_t *__restrict__ idx, int64_t r,
                                        int64_t cols, const S *src, int64_t lds, float alpha, const int *fault) {
    if (*fault) return;
    const int64_t total = r * cols;
    for (int64_t e = global_id(); e < total; e += global_stride()) {
        const int64_t j = e / cols, c = e - j * cols;
        atomic_add_f32(dst + (int64_t)idx[j] * ldd + c, __fmul_rn(alpha, load_f32(src + j * lds + c)));
    }
}

template <typename Op>
int binary_t(const void *a, const void *b, int type, int64_t n, void *out, void *stream) {
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(a != nullptr && b != nullptr && out != nullptr);
    return with_type(type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        binary_t_kernel<Op, T><<<grid_for(n), kThreads, 0, as_stream(stream)>>>(
            static_cast<const T *>(a), static_cast<const T *>(b), n, static_cast<T *>(out));
        return launched();
    });
}

} // namespace

extern "C" int sbc_convert(const void *x, int xtype, void *out, int otype, int64_t n, void *stream) {
    SBC_CHECK(valid_type(xtype) && valid_type(otype));
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && out != nullptr);
    if (xtype == otype) {
        if (x == out) return SBC_OK;
        return status(cudaMemcpyAsync(out, x, (size_t)(n * type_size(xtype)), cudaMemcpyDeviceToDevice,
                                      as_stream(stream)));
    }
    return with_types(xtype, otype, [&](auto xt, auto ot) {
        using X = typename decltype(xt)::type;
        using O = typename decltype(ot)::type;
        convert_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(static_cast<const X *>(x), n,
                                                                        static_cast<O *>(out));
        return launched();
    });
}

extern "C" int sbc_fill_t(void *x, int type, int64_t n, float value, void *stream) {
    SBC_CHECK(valid_type(type));
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(x != nullptr);
    return with_type(type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        fill_t_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(static_cast<T *>(x), n, value);
        return launched();
    });
}

extern "C" int sbc_binary_t(int op, const void *a, const void *b, int type, int64_t n, void *out, void *stream) {
    SBC_CHECK(valid_type(type));
    switch (op) {
    case SBC_OP_ADD: return binary_t<AddOp>(a, b, type, n, out, stream);
    case SBC_OP_SUB: return binary_t<SubOp>(a, b, type, n, out, stream);
    case SBC_OP_MUL: return binary_t<MulOp>(a, b, type, n, out, stream);
    case SBC_OP_DIV: return binary_t<DivOp>(a, b, type, n, out, stream);
    default: return SBC_ERR_ARG;
    }
}

extern "C" int sbc_scale_t(const void *x, int type, int64_t n, float s, void *out, void *stream) {
    SBC_CHECK(valid_type(type));
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && out != nullptr);
    return with_type(type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        scale_t_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(static_cast<const T *>(x), n, s,
                                                                        static_cast<T *>(out));
        return launched();
    });
}

extern "C" int sbc_axpy_t(int64_t n, float alpha, const void *x, int xtype, void *y, int ytype, void *stream) {
    SBC_CHECK(valid_type(xtype) && valid_type(ytype));
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && y != nullptr);
    return with_types(xtype, ytype, [&](auto xt, auto yt) {
        using X = typename decltype(xt)::type;
        using Y = typename decltype(yt)::type;
        axpy_t_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(n, alpha, static_cast<const X *>(x),
                                                                       static_cast<Y *>(y));
        return launched();
    });
}

extern "C" int sbc_sum_t(const void *x, int type, int64_t n, double *out, void *stream) {
    SBC_CHECK(valid_type(type));
    SBC_CHECK(n >= 0 && out != nullptr);
    SBC_CHECK(n == 0 || x != nullptr);
    const cudaError_t e = cudaMemsetAsync(out, 0, sizeof(double), as_stream(stream)); // the sum of nothing is 0
    if (e != cudaSuccess || n == 0) return status(e);
    return with_type(type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        sum_t_kernel<<<reduce_grid(n), kThreads, 0, as_stream(stream)>>>(static_cast<const T *>(x), n, out);
        return launched();
    });
}

extern "C" int sbc_count_nonfinite_t(const void *x, int type, int64_t n, int64_t *out, void *stream) {
    SBC_CHECK(valid_type(type));
    SBC_CHECK(n >= 0 && out != nullptr);
    SBC_CHECK(n == 0 || x != nullptr);
    const cudaError_t e = cudaMemsetAsync(out, 0, sizeof(int64_t), as_stream(stream));
    if (e != cudaSuccess || n == 0) return status(e);
    return with_type(type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        nonfinite_t_kernel<<<reduce_grid(n), kThreads, 0, as_stream(stream)>>>(static_cast<const T *>(x), n, out);
        return launched();
    });
}

extern "C" int sbc_gather_cols_t(const void *x, int type, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx,
                                 int64_t r, void *out, int64_t ldo, void *stream) {
    SBC_CHECK(valid_type(type));
    SBC_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldx >= cols && ldo >= r);
    if (rows == 0 || r == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && idx != nullptr && out != nullptr);
    const int *fault;
    const int checked = check_indices(idx, r, cols, false, 0, as_stream(stream), &fault);
    if (checked != SBC_OK) return checked;
    if (type == SBC_BF16) {
        gather_cols_t_kernel<<<grid_for(rows * r), kThreads, 0, as_stream(stream)>>>(
            static_cast<const uint16_t *>(x), ldx, idx, rows, r, static_cast<uint16_t *>(out), ldo, fault);
    } else {
        gather_cols_t_kernel<<<grid_for(rows * r), kThreads, 0, as_stream(stream)>>>(
            static_cast<const uint32_t *>(x), ldx, idx, rows, r, static_cast<uint32_t *>(out), ldo, fault);
    }
    return launched();
}

extern "C" int sbc_gather_rows_t(const void *x, int type, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx,
                                 int64_t r, void *out, int64_t ldo, void *stream) {
    SBC_CHECK(valid_type(type));
    SBC_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldx >= cols && ldo >= cols);
    if (r == 0 || cols == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && idx != nullptr && out != nullptr);
    const int *fault;
    const int checked = check_indices(idx, r, rows, false, 0, as_stream(stream), &fault);
    if (checked != SBC_OK) return checked;
    if (type == SBC_BF16) {
        gather_rows_t_kernel<<<grid_for(r * cols), kThreads, 0, as_stream(stream)>>>(
            static_cast<const uint16_t *>(x), ldx, idx, r, cols, static_cast<uint16_t *>(out), ldo, fault);
    } else {
        gather_rows_t_kernel<<<grid_for(r * cols), kThreads, 0, as_stream(stream)>>>(
            static_cast<const uint32_t *>(x), ldx, idx, r, cols, static_cast<uint32_t *>(out), ldo, fault);
    }
    return launched();
}

extern "C" int sbc_index_add_cols_t(void *dst, int dtype, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx,
                                    int64_t r, const void *src, int stype, int64_t lds, float alpha, void *stream) {
    SBC_CHECK(valid_type(dtype) && valid_type(stype));
    SBC_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldd >= cols && lds >= r);
    if (rows == 0 || r == 0) return SBC_OK;
    SBC_CHECK(dst != nullptr && idx != nullptr && src != nullptr);
    const int *fault;
    const int checked = check_indices(idx, r, cols, false, 0, as_stream(stream), &fault);
    if (checked != SBC_OK) return checked;
    return with_types(dtype, stype, [&](auto dt, auto st) {
        using D = typename decltype(dt)::type;
        using S = typename decltype(st)::type;
        index_add_cols_t_kernel<<<grid_for(rows * r), kThreads, 0, as_stream(stream)>>>(
            static_cast<D *>(dst), ldd, idx, rows, r, static_cast<const S *>(src), lds, alpha, fault);
        return launched();
    });
}

extern "C" int sbc_index_add_rows_t(void *dst, int dtype, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx,
                                    int64_t r, const void *src, int stype, int64_t lds, float alpha, void *stream) {
    SBC_CHECK(valid_type(dtype) && valid_type(stype));
    SBC_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldd >= cols && lds >= cols);
    if (r == 0 || cols == 0) return SBC_OK;
    SBC_CHECK(dst != nullptr && idx != nullptr && src != nullptr);
    const int *fault;
    const int checked = check_indices(idx, r, rows, false, 0, as_stream(stream), &fault);
    if (checked != SBC_OK) return checked;
    return with_types(dtype, stype, [&](auto dt, auto st) {
        using D = typename decltype(dt)::type;
        using S = typename decltype(st)::type;
        index_add_rows_t_kernel<<<grid_for(r * cols), kThreads, 0, as_stream(stream)>>>(
            static_cast<D *>(dst), ldd, idx, r, cols, static_cast<const S *>(src), lds, alpha, fault);
        return launched();
    });
}
