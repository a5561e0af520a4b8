package io.sbora4j.cuda;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.BackendProvider;
import io.sbora4j.backend.BackendUnavailableException;
import io.sbora4j.backend.natives.NativeLibraryException;
import io.sbora4j.cuda.ffi.CudaLibraries;
import io.sbora4j.tensor.Device;
import java.util.List;

/**
 * The {@code cuda} devices: GPU 0's memory ({@link CudaMemory}), our CUDA kernels and cuBLAS. Unavailable, with the
 * reason, where the kernels were not built, cuBLAS is not found or no GPU is present.
 */
public final class CudaBackendProvider implements BackendProvider {

    private static final Device DEFAULT = Device.of("cuda", CudaMemory.INSTANCE);

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Device defaultDevice() {
        return DEFAULT;
    }

    @Override
    public Device newDevice() {
        return Device.of("cuda", CudaMemory.INSTANCE);
    }

    @Override
    public Backend open(Device device, BackendOptions options) {
        String problem = CudaRuntime.problem().orElse(null);
        if (problem != null) {
            throw new BackendUnavailableException("the cuda backend: " + problem);
        }
        try {
            return new CudaBackend(device, options);
        } catch (NativeLibraryException e) {
            throw new BackendUnavailableException("the cuda backend: " + e.getMessage(), e);
        } catch (CudaException e) {
            throw new BackendUnavailableException("the cuda backend: cuBLAS cannot start: " + e.getMessage(), e);
        }
    }

    @Override
    public List<String> libraries() {
        return List.of(CudaLibraries.describe().split(System.lineSeparator()));
    }
}
