package io.sbora4j.testing;

import io.sbora4j.tensor.Device;
import java.util.stream.Stream;

/** The host devices tests run on, for {@code @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")}. */
public final class HostDevices {

    private HostDevices() {}

    /** The native cpu backend and the plain-Java oracle (the cpu module on the class path). */
    public static Stream<Device> cpuAndReference() {
        return Stream.of(Device.CPU, Device.REFERENCE);
    }
}
