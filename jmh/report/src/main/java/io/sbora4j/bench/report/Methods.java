package io.sbora4j.bench.report;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The adapter methods as the benchmarks' {@code method} parameter names them, and the order reports show them in. */
public final class Methods {

    public static final String BASE = "base";
    public static final String LORA = "lora";
    public static final String SBORA_FA = "sbora-fa";
    public static final String SBORA_FB = "sbora-fb";

    /** The order methods are shown in; other names follow, alphabetically. */
    public static final List<String> ORDER = List.of(BASE, LORA, "lora-fa", "dora", SBORA_FA, SBORA_FB);

    /** Known methods in {@link #ORDER}, unknown ones after them by name. */
    public static final Comparator<String> COMPARATOR = Comparator.comparingInt(
                    (String m) -> ORDER.indexOf(m) < 0 ? Integer.MAX_VALUE : ORDER.indexOf(m))
            .thenComparing(Comparator.naturalOrder());

    private Methods() {}

    /** Every method name in {@code rows}' maps, in {@link #COMPARATOR} order. */
    public static List<String> in(List<? extends Map<String, Timing>> rows) {
        TreeMap<String, Boolean> names = new TreeMap<>(COMPARATOR);
        rows.forEach(m -> m.keySet().forEach(k -> names.put(k, true)));
        return List.copyOf(names.keySet());
    }
}
