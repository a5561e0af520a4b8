package io.sbora4j.cuda;

import io.sbora4j.cuda.ffi.sbora_cuda_h;
import io.sbora4j.tensor.DeviceMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * GPU memory for tensors on cuda devices, owned by arenas, zeroed, and copied on the library's stream
 * ({@link CudaRuntime#stream()}).
 *
 * <p>A pool sits between the arenas and {@code cudaMalloc}: a training step allocates and frees the same sizes
 * every time, and {@code cudaMalloc}/{@code cudaFree} each cost microseconds to milliseconds and synchronise the
 * device. When an arena closes its blocks go back to the pool under their rounded size (512-byte steps below
 * 1 MiB, 2 MiB steps above) and the next allocation of that size takes one. Reuse without waiting is safe because
 * all work goes to one stream: a kernel that used the block is queued before any kernel of its next owner. When
 * {@code cudaMalloc} runs out of memory the pool is emptied and the allocation tried once more.
 */
public final class CudaMemory implements DeviceMemory {

    private static final long SMALL = 1L << 20;
    private static final Map<Long, ArrayDeque<MemorySegment>> POOL = new HashMap<>();
    private static long pooledBytes;

    /** The memory of every cuda device of the process (one GPU, one pool). */
    public static final CudaMemory INSTANCE = new CudaMemory();

    private CudaMemory() {}

    /** The size a request of {@code bytes} is served from. */
    static long roundedSize(long bytes) {
        long b = Math.max(bytes, 1);
        long step = b < SMALL ? 512 : 2 * SMALL;
        return (b + step - 1) / step * step;
    }

    @Override
    public MemorySegment allocate(Arena arena, long bytes) {
        CudaRuntime.problem().ifPresent(p -> {
            throw new UnsupportedOperationException("tensors on cuda: " + p);
        });
        long size = roundedSize(bytes);
        MemorySegment ptr = take(size);
        if (ptr == null) {
            ptr = cudaMalloc(size);
        }
        CudaRuntime.check(sbora_cuda_h.sbc_memset(ptr, 0, size, CudaRuntime.stream()), "cudaMemsetAsync");
        return ptr.reinterpret(size, arena, p -> give(p, size)).asSlice(0, bytes);
    }

    private static synchronized MemorySegment take(long size) {
        ArrayDeque<MemorySegment> q = POOL.get(size);
        MemorySegment p = q == null ? null : q.pollFirst();
        if (p != null) {
            pooledBytes -= size;
        }
        return p;
    }

    private static synchronized void give(MemorySegment ptr, long size) {
        POOL.computeIfAbsent(size, k -> new ArrayDeque<>()).addFirst(MemorySegment.ofAddress(ptr.address()));
        pooledBytes += size;
    }

    private static MemorySegment cudaMalloc(long size) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment holder = tmp.allocate(ValueLayout.ADDRESS);
            int status = sbora_cuda_h.sbc_malloc(holder, size);
            if (status != sbora_cuda_h.SBC_OK && releasePool() > 0) {
                status = sbora_cuda_h.sbc_malloc(holder, size); // retry with the cached blocks returned
            }
            CudaRuntime.check(status, "cudaMalloc of " + size + " bytes");
            return holder.get(ValueLayout.ADDRESS, 0);
        }
    }

    /** Returns every pooled block to CUDA (after the stream drains); the bytes released. */
    public static long releasePool() {
        CudaRuntime.synchronize();
        synchronized (CudaMemory.class) {
            long released = pooledBytes;
            for (ArrayDeque<MemorySegment> q : POOL.values()) {
                for (MemorySegment p : q) {
                    sbora_cuda_h.sbc_free(p); // an error here has nowhere useful to go
                }
            }
            POOL.clear();
            pooledBytes = 0;
            return released;
        }
    }

    /** Bytes held in the pool, free for reuse. */
    public static synchronized long pooledBytes() {
        return pooledBytes;
    }

    private static MemorySegment at(MemorySegment device, long offset) {
        return MemorySegment.ofAddress(device.address() + offset);
    }

    private static void copy(MemorySegment dst, MemorySegment src, long bytes, int kind, String what) {
        CudaRuntime.check(sbora_cuda_h.sbc_memcpy_async(dst, src, bytes, kind, CudaRuntime.stream()), what);
        CudaRuntime.synchronize(); // the host buffer is read or written by the time this returns
    }

    @Override
    public void toHost(MemorySegment device, long deviceOffset, MemorySegment host, long hostOffset, long bytes) {
        if (bytes == 0) {
            return;
        }
        copy(
                host.asSlice(hostOffset, bytes),
                at(device, deviceOffset),
                bytes,
                sbora_cuda_h.SBC_DEVICE_TO_HOST,
                "cudaMemcpyAsync device to host");
    }

    @Override
    public void fromHost(MemorySegment host, long hostOffset, MemorySegment device, long deviceOffset, long bytes) {
        if (bytes == 0) {
            return;
        }
        copy(
                at(device, deviceOffset),
                host.asSlice(hostOffset, bytes),
                bytes,
                sbora_cuda_h.SBC_HOST_TO_DEVICE,
                "cudaMemcpyAsync host to device");
    }

    @Override
    public void onDevice(MemorySegment src, MemorySegment dst, long bytes) {
        if (bytes == 0) {
            return;
        }
        // Stream-ordered, no host wait: both ends are device memory that only later work on the stream reads.
        CudaRuntime.check(
                sbora_cuda_h.sbc_memcpy_async(dst, src, bytes, sbora_cuda_h.SBC_DEVICE_TO_DEVICE, CudaRuntime.stream()),
                "cudaMemcpyAsync device to device");
    }
}
