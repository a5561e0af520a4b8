package io.sbora4j.backend;

import io.sbora4j.tensor.Device;
import java.util.List;

/**
 * A kind of device and the backend that computes on it, found through {@link java.util.ServiceLoader}
 * ({@code provides io.sbora4j.backend.BackendProvider with ...}). A device is the name a provider answers to: the
 * library knows {@code reference} (built in), {@code cpu} and {@code cuda} (their modules), and any other provider on
 * the module or class path adds its own name.
 */
public interface BackendProvider {

    /** The name devices of this kind answer to, e.g. {@code cpu}; lower case, unique among providers. */
    String name();

    /**
     * The default device of this kind, one per process: {@link Device#CPU} for {@code cpu}, a device created once
     * for the others. Creating it must not load native libraries (that happens in {@link #open}).
     */
    Device defaultDevice();

    /**
     * A new device of this kind, for a backend opened with options other than the defaults: same name and memory
     * as {@link #defaultDevice()}, another identity.
     */
    Device newDevice();

    /**
     * The backend computing on {@code device} (one this provider created) with {@code options}.
     *
     * @throws BackendUnavailableException saying why it cannot run here (no library, no GPU, ...)
     */
    Backend open(Device device, BackendOptions options);

    /**
     * One line per native library this provider uses: where it was loaded from, or why it could not be (for
     * {@code sbora info}). Asking may load them.
     */
    default List<String> libraries() {
        return List.of();
    }
}
