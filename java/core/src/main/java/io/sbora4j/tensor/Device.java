package io.sbora4j.tensor;

import java.util.Objects;

/**
 * Where a tensor's memory lives and which backend computes on it: a name a backend provider answers to, plus, for
 * memory Java cannot address (a GPU's), the {@link DeviceMemory} that allocates and copies it.
 *
 * <p>A device is a handle: two devices are the same only if they are the same object. Each provider has one default
 * device per process ({@link #CPU}, {@link #REFERENCE}, and the one {@code Backends.device("cuda")} returns); a
 * backend opened with other options gets a device of its own with the same name, so tensors remember which backend
 * computes on them. {@code CPU} and {@code REFERENCE} both hold host memory; they differ in the kernels (native or
 * plain Java, the oracle of the tests).
 */
public final class Device {

    /** Host memory, native kernels (OpenBLAS and C): the default device of the {@code cpu} provider. */
    public static final Device CPU = host("cpu");
    /** Host memory, plain Java loops, slow on purpose and obviously right: the {@code reference} provider's. */
    public static final Device REFERENCE = host("reference");

    private final String name;
    private final DeviceMemory memory;

    private Device(String name, DeviceMemory memory) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a device needs a name");
        }
        this.name = name;
        this.memory = memory;
    }

    /** A new device whose tensors live in host memory, which Java reads and writes directly. */
    public static Device host(String name) {
        return new Device(name, null);
    }

    /** A new device whose tensors live in memory only {@code memory} can allocate and copy. */
    public static Device of(String name, DeviceMemory memory) {
        return new Device(name, Objects.requireNonNull(memory, "memory"));
    }

    /** The provider's name, as {@code --device} and {@code SBORA_DEVICE} take it. */
    public String name() {
        return name;
    }

    /** Whether Java can read this device's memory directly. */
    public boolean isHost() {
        return memory == null;
    }

    /** The memory of a non-host device. */
    public DeviceMemory memory() {
        if (memory == null) {
            throw new IllegalStateException("device '" + name + "' holds host memory");
        }
        return memory;
    }

    @Override
    public String toString() {
        return name;
    }
}
