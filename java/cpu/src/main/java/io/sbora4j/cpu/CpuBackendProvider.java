package io.sbora4j.cpu;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.BackendProvider;
import io.sbora4j.backend.BackendUnavailableException;
import io.sbora4j.backend.Bf16Fallback;
import io.sbora4j.backend.natives.NativeLibraryException;
import io.sbora4j.cpu.ffi.CpuLibraries;
import io.sbora4j.tensor.Device;
import java.util.List;

/**
 * The {@code cpu} devices: host memory, OpenBLAS and our C kernels; f32 calls on {@link CpuBackend}, calls with a
 * bf16 tensor on {@link CpuBf16Backend}, routed by one {@link Bf16Fallback}.
 */
public final class CpuBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Device defaultDevice() {
        return Device.CPU;
    }

    @Override
    public Device newDevice() {
        return Device.host("cpu");
    }

    /** Loads the libraries on first use; throws {@link BackendUnavailableException} with the reason they cannot be. */
    @Override
    public Backend open(Device device, BackendOptions options) {
        try {
            CpuLibraries.connect();
        } catch (NativeLibraryException e) {
            throw new BackendUnavailableException("the cpu backend: " + e.getMessage(), e);
        }
        CpuBackend f32 = new CpuBackend(device, options);
        return new Bf16Fallback(f32, new CpuBf16Backend(f32));
    }

    @Override
    public List<String> libraries() {
        return List.of(CpuLibraries.describe().split(System.lineSeparator()));
    }
}
