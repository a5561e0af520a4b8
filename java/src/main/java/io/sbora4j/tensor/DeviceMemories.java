package io.sbora4j.tensor;

import java.util.EnumMap;
import java.util.Map;
import java.util.ServiceLoader;

/** The {@link DeviceMemory} of each non-host device, found once through {@link ServiceLoader}. */
final class DeviceMemories {

    private static final Map<Device, DeviceMemory> FOUND = load();

    private DeviceMemories() {}

    private static Map<Device, DeviceMemory> load() {
        Map<Device, DeviceMemory> m = new EnumMap<>(Device.class);
        for (DeviceMemory d : ServiceLoader.load(DeviceMemory.class, DeviceMemories.class.getClassLoader())) {
            m.putIfAbsent(d.device(), d);
        }
        return m;
    }

    static DeviceMemory of(Device device) {
        DeviceMemory d = FOUND.get(device);
        if (d == null) {
            throw new UnsupportedOperationException("no memory provider for device '" + device + "' is installed");
        }
        return d;
    }
}
