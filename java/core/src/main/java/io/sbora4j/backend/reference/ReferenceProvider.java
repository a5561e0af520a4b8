package io.sbora4j.backend.reference;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.BackendProvider;
import io.sbora4j.tensor.Device;

/** The built-in provider of the plain-Java reference backend ({@code reference}), the oracle of the tests. */
public final class ReferenceProvider implements BackendProvider {

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Device defaultDevice() {
        return Device.REFERENCE;
    }

    @Override
    public Device newDevice() {
        return Device.host("reference");
    }

    /** Plain loops have nothing to tune: every device gets the same kernels. */
    @Override
    public Backend open(Device device, BackendOptions options) {
        return device == Device.REFERENCE ? ReferenceBackend.INSTANCE : new ReferenceBackend(device);
    }
}
