package io.sbora4j.backend.cuda;

import io.sbora4j.ffi.sbora_cuda_h;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.DeviceMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * GPU memory for tensors on {@link Device#CUDA}: {@code cudaMalloc} owned by an arena ({@code cudaFree} when it
 * closes), zeroed, and copies through {@code cudaMemcpy}. Found by the tensor package as a service.
 */
public final class CudaMemory implements DeviceMemory {

    /** For {@link java.util.ServiceLoader}. */
    public CudaMemory() {}

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public MemorySegment allocate(Arena arena, long bytes) {
        CudaRuntime.problem().ifPresent(p -> {
            throw new UnsupportedOperationException("tensors on cuda: " + p);
        });
        long size = Math.max(bytes, 1);
        MemorySegment ptr;
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment holder = tmp.allocate(ValueLayout.ADDRESS);
            CudaRuntime.check(sbora_cuda_h.sbc_malloc(holder, size), "cudaMalloc of " + size + " bytes");
            ptr = holder.get(ValueLayout.ADDRESS, 0);
        }
        CudaRuntime.check(sbora_cuda_h.sbc_memset(ptr, 0, size, MemorySegment.NULL), "cudaMemsetAsync");
        return ptr.reinterpret(size, arena, CudaMemory::free).asSlice(0, bytes);
    }

    private static void free(MemorySegment ptr) {
        sbora_cuda_h.sbc_free(ptr); // during arena close: an error here has nowhere useful to go
    }

    private static MemorySegment at(MemorySegment device, long offset) {
        return MemorySegment.ofAddress(device.address() + offset);
    }

    @Override
    public void toHost(MemorySegment device, long deviceOffset, MemorySegment host, long hostOffset, long bytes) {
        if (bytes == 0) {
            return;
        }
        CudaRuntime.check(sbora_cuda_h.sbc_memcpy(host.asSlice(hostOffset, bytes), at(device, deviceOffset), bytes,
                sbora_cuda_h.SBC_DEVICE_TO_HOST), "cudaMemcpy device to host");
    }

    @Override
    public void fromHost(MemorySegment host, long hostOffset, MemorySegment device, long deviceOffset, long bytes) {
        if (bytes == 0) {
            return;
        }
        CudaRuntime.check(sbora_cuda_h.sbc_memcpy(at(device, deviceOffset), host.asSlice(hostOffset, bytes), bytes,
                sbora_cuda_h.SBC_HOST_TO_DEVICE), "cudaMemcpy host to device");
    }

    @Override
    public void onDevice(MemorySegment src, MemorySegment dst, long bytes) {
        if (bytes == 0) {
            return;
        }
        CudaRuntime.check(sbora_cuda_h.sbc_memcpy(dst, src, bytes, sbora_cuda_h.SBC_DEVICE_TO_DEVICE),
                "cudaMemcpy device to device");
    }
}
