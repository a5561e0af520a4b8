package io.sbora4j.tensor;

import java.util.Locale;

/**
 * Where a tensor's memory lives and which backend computes on it. {@link #CPU} and {@link #REFERENCE} both use host
 * memory; they differ in the kernels: native (OpenBLAS + C) or plain Java loops, the oracle of the tests.
 */
public enum Device {
    /** Host memory, native kernels (OpenBLAS, C with OpenMP). The default. */
    CPU("cpu", true),
    /** Host memory, plain Java loops: slow on purpose, obviously right. */
    REFERENCE("reference", true),
    /** NVIDIA GPU memory, CUDA kernels and cuBLAS. */
    CUDA("cuda", false);

    private final String id;
    private final boolean host;

    Device(String id, boolean host) {
        this.id = id;
        this.host = host;
    }

    /** The name used by {@code --device} and {@code SBORA_DEVICE}. */
    public String id() {
        return id;
    }

    /** Whether Java code can read this device's memory directly. */
    public boolean isHost() {
        return host;
    }

    /** The device named {@code name} ({@code cpu}, {@code reference}, {@code cuda}), case-insensitive. */
    public static Device parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (Device d : values()) {
            if (d.id.equals(n)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown device '" + name + "' (expected cpu, reference or cuda)");
    }

    @Override
    public String toString() {
        return id;
    }
}
