package io.sbora4j.cli;

import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Device;
import picocli.CommandLine.Option;

/** {@code --device} and {@code --threads}, shared by the commands that compute. */
final class DeviceOptions {

    @Option(names = "--device", paramLabel = "NAME",
            description = "cpu, reference or cuda (default: $SBORA_DEVICE, else cpu)")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads for BLAS and kernels (default: all)")
    int threads;

    /** The chosen device, with its backend set up. */
    Device resolve() {
        Device d = device == null ? Backends.defaultDevice() : Device.parse(device);
        Backends.of(d).setThreads(threads);
        return d;
    }
}
