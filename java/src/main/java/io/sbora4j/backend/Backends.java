package io.sbora4j.backend;

import io.sbora4j.backend.cpu.CpuBackend;
import io.sbora4j.backend.cuda.CudaBackend;
import io.sbora4j.backend.reference.ReferenceBackend;
import io.sbora4j.tensor.Device;
import java.util.Optional;

/** The backend of each device, created on first use, and the default device of the process. */
public final class Backends {

    private Backends() {}

    /** The backend computing on {@code device}; throws {@link BackendUnavailableException} saying why not. */
    public static Backend of(Device device) {
        return switch (device) {
            case CPU -> CpuBackend.instance();
            case REFERENCE -> ReferenceBackend.INSTANCE;
            case CUDA -> CudaBackend.instance();
        };
    }

    /** Why {@code device} cannot be used here, or empty when it can. */
    public static Optional<String> unavailableReason(Device device) {
        try {
            of(device);
            return Optional.empty();
        } catch (BackendUnavailableException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** The device named by {@code SBORA_DEVICE}, else {@code cpu}. */
    public static Device defaultDevice() {
        String env = System.getenv("SBORA_DEVICE");
        return env == null || env.isBlank() ? Device.CPU : Device.parse(env);
    }
}
