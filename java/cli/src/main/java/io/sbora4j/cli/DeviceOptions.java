package io.sbora4j.cli;

import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Device;
import picocli.CommandLine.Option;

/** {@code --device} and {@code --threads}, shared by the commands that compute. */
final class DeviceOptions {

    @Option(
            names = "--device",
            paramLabel = "NAME",
            description = "cpu, reference, cuda or another installed backend (default: $SBORA_DEVICE, else cpu)")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads for BLAS and kernels (default: all)")
    int threads;

    /** The chosen device: the default one, or one of its own when a thread count is asked for. */
    Device resolve() {
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be >= 0 (0: all cores), got " + threads);
        }
        Device d = device == null ? Backends.defaultDevice() : Backends.device(device);
        if (threads == 0) {
            Backends.of(d); // fails here, with the reason, when the backend cannot run
            return d;
        }
        return Backends.open(d.name(), BackendOptions.DEFAULTS.withThreads(threads))
                .device();
    }
}
