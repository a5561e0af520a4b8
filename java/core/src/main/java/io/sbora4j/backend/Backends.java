package io.sbora4j.backend;

import io.sbora4j.backend.reference.ReferenceProvider;
import io.sbora4j.tensor.Device;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The backends of the devices in use: the providers found through {@link ServiceLoader}, each device's backend
 * (created on first use), and the default device of the process.
 *
 * <p>Every tensor's device leads to one backend: a provider's default device to the backend with
 * {@link BackendOptions#DEFAULTS}, a device made by {@link #open} to the backend opened with it. Thread-safe.
 */
public final class Backends {

    private static final Map<String, BackendProvider> PROVIDERS = discover();
    private static final Map<Device, Backend> OPEN = Collections.synchronizedMap(new IdentityHashMap<>());
    private static final Map<Device, BackendUnavailableException> FAILED =
            Collections.synchronizedMap(new IdentityHashMap<>());

    private Backends() {}

    private static Map<String, BackendProvider> discover() {
        Map<String, BackendProvider> m = new LinkedHashMap<>();
        m.put("reference", new ReferenceProvider());
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
            m.putIfAbsent(p.name().toLowerCase(Locale.ROOT), p);
        }
        return Collections.unmodifiableMap(m);
    }

    /** The names of the providers found, {@code reference} first. */
    public static List<String> names() {
        return new ArrayList<>(PROVIDERS.keySet());
    }

    /**
     * The backend computing on {@code device}.
     *
     * @throws BackendUnavailableException saying why when it cannot run here, or when no provider answers to the
     *                                     device's name
     */
    public static Backend of(Device device) {
        Backend b = OPEN.get(device);
        if (b != null) {
            return b;
        }
        synchronized (OPEN) {
            b = OPEN.get(device);
            if (b != null) {
                return b;
            }
            BackendUnavailableException failed = FAILED.get(device);
            if (failed != null) {
                throw new BackendUnavailableException(failed.getMessage(), failed);
            }
            BackendProvider p = provider(device.name());
            if (p.defaultDevice() != device) {
                throw new IllegalArgumentException("device '" + device + "' was not created by the " + p.name()
                        + " provider; use Backends.device(name) or Backends.open(name, options)");
            }
            try {
                b = p.open(device, BackendOptions.DEFAULTS);
            } catch (BackendUnavailableException e) {
                FAILED.put(device, e);
                throw e;
            }
            OPEN.put(device, b);
            return b;
        }
    }

    /** The default device named {@code name} ({@code cpu}, {@code reference}, {@code cuda}, ...), case-insensitive. */
    public static Device device(String name) {
        return provider(name).defaultDevice();
    }

    /**
     * A backend with {@code options} on a new device of kind {@code name}, for tuning that must not change the
     * default device's backend (a benchmark comparing two routes, a thread count of one part of an application).
     * Tensors created on the returned backend's {@link Backend#device()} compute on it. {@link BackendOptions#DEFAULTS}
     * gives the default device's backend.
     */
    public static Backend open(String name, BackendOptions options) {
        BackendProvider p = provider(name);
        if (options.equals(BackendOptions.DEFAULTS)) {
            return of(p.defaultDevice());
        }
        Device d = p.newDevice();
        Backend b = p.open(d, options);
        OPEN.put(d, b);
        return b;
    }

    /** The lines of {@link BackendProvider#libraries()} of the provider named {@code name}. */
    public static List<String> libraries(String name) {
        return provider(name).libraries();
    }

    /** Why devices named {@code name} cannot be used here, or empty when they can. */
    public static Optional<String> unavailableReason(String name) {
        try {
            of(device(name));
            return Optional.empty();
        } catch (BackendUnavailableException | IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** The device named by {@code SBORA_DEVICE}, else {@code cpu}. */
    public static Device defaultDevice() {
        String env = System.getenv("SBORA_DEVICE");
        return device(env == null || env.isBlank() ? "cpu" : env);
    }

    private static BackendProvider provider(String name) {
        BackendProvider p = PROVIDERS.get(name.trim().toLowerCase(Locale.ROOT));
        if (p == null) {
            throw new IllegalArgumentException("unknown device '" + name + "' (available: "
                    + String.join(", ", PROVIDERS.keySet()) + hint(name) + ")");
        }
        return p;
    }

    private static String hint(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return n.equals("cpu") || n.equals("cuda")
                ? "; put sbora4j-" + n + " on the class or module path for '" + n + "'"
                : "";
    }
}
