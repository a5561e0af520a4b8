package io.sbora4j.peft;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The adapter methods of this process: the library's five, then every {@link AdapterMethod} found through
 * {@link ServiceLoader}, by id.
 */
public final class AdapterMethods {

    /** LoRA (Hu et al. 2021): A (r x in, random) and B (out x r, zeros) trained. */
    public static final AdapterMethod LORA = new LoraMethod(false);
    /** LoRA-FA (Zhang et al. 2023): A random and frozen, B trained. */
    public static final AdapterMethod LORA_FA = new LoraMethod(true);
    /** DoRA (Liu et al. 2024): LoRA on the direction of W, plus a trained magnitude per output row. */
    public static final AdapterMethod DORA = new DoraMethod();
    /** SBoRA-FA: A is r standard-basis rows (an index list into the inputs), B trained; r columns of W change. */
    public static final AdapterMethod SBORA_FA = new SboraFaMethod();
    /** SBoRA-FB: B is r standard-basis columns (an index list into the outputs), A trained; r rows of W change. */
    public static final AdapterMethod SBORA_FB = new SboraFbMethod();

    private static final class Registry {
        static final Map<String, AdapterMethod> BY_ID = load();

        private static Map<String, AdapterMethod> load() {
            Map<String, AdapterMethod> m = new LinkedHashMap<>();
            for (AdapterMethod a : List.of(LORA, LORA_FA, DORA, SBORA_FA, SBORA_FB)) {
                m.put(a.id(), a);
            }
            for (AdapterMethod a : ServiceLoader.load(AdapterMethod.class, AdapterMethods.class.getClassLoader())) {
                String id = normalise(a.id());
                AdapterMethod clash = m.putIfAbsent(id, a);
                if (clash != null && clash.getClass() != a.getClass()) {
                    throw new IllegalStateException("two adapter methods are named '" + id + "': "
                            + clash.getClass().getName() + " and "
                            + a.getClass().getName());
                }
            }
            return Collections.unmodifiableMap(m);
        }
    }

    private AdapterMethods() {}

    private static String normalise(String id) {
        return id.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * The method named {@code id} (case-insensitive; {@code _} and {@code -} are the same).
     *
     * @throws IllegalArgumentException naming the known methods when there is none
     */
    public static AdapterMethod of(String id) {
        AdapterMethod m = Registry.BY_ID.get(normalise(id));
        if (m == null) {
            throw new IllegalArgumentException("unknown adapter method '" + id + "' (expected "
                    + String.join(", ", Registry.BY_ID.keySet()) + ")");
        }
        return m;
    }

    /** Every method, the library's first. */
    public static List<AdapterMethod> all() {
        return new ArrayList<>(Registry.BY_ID.values());
    }
}
