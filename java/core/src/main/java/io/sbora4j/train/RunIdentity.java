package io.sbora4j.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Everything that defines a training run, as named text values: the adapter (method, r, alpha, targets, dropout,
 * seed), the optimisation (learning-rate schedule, accumulation, clipping, weight decay, seed) and whatever the caller
 * adds (steps, batch, sequence length, template, fingerprints of the data and the model). A checkpoint and an adapter
 * folder written by training record it; resuming or re-running with any difference is refused, naming the fields.
 *
 * @param fields the values by name, in a fixed order
 */
public record RunIdentity(Map<String, String> fields) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public RunIdentity {
        Map<String, String> copy = new LinkedHashMap<>();
        fields.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "field name"), Objects.requireNonNull(v, k)));
        fields = Collections.unmodifiableMap(copy);
    }

    /** This identity with {@code more} fields added (a field already present takes the new value). */
    public RunIdentity with(Map<String, String> more) {
        Map<String, String> m = new LinkedHashMap<>(fields);
        m.putAll(more);
        return new RunIdentity(m);
    }

    /**
     * The fields in which this run differs from {@code recorded}, each as {@code name: old -> new} ({@code (none)} for
     * a field only one of them has), in the recorded order; empty when they are the same run.
     */
    public List<String> differencesFrom(RunIdentity recorded) {
        Set<String> names = new LinkedHashSet<>(recorded.fields.keySet());
        names.addAll(fields.keySet());
        List<String> out = new ArrayList<>();
        for (String n : names) {
            String old = recorded.fields.get(n), now = fields.get(n);
            if (!Objects.equals(old, now)) {
                out.add(n + ": " + (old == null ? "(none)" : old) + " -> " + (now == null ? "(none)" : now));
            }
        }
        return out;
    }

    /**
     * Throws {@link RunMismatchException}, one line naming every differing field, unless this run is the one
     * {@code recorded} describes; {@code what} names where the record was found.
     */
    public void requireSameAs(RunIdentity recorded, String what) {
        List<String> diff = differencesFrom(recorded);
        if (!diff.isEmpty()) {
            throw new RunMismatchException(
                    what + " was written by a run with other settings: " + String.join("; ", diff), diff);
        }
    }

    /** The fields as a JSON object of strings. */
    ObjectNode toJsonNode() {
        ObjectNode o = JSON.createObjectNode();
        fields.forEach(o::put);
        return o;
    }

    /** Reads a JSON object of strings; throws IllegalArgumentException for anything else. */
    static RunIdentity fromJsonNode(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("no run record");
        }
        Map<String, String> m = new LinkedHashMap<>();
        node.properties().forEach(e -> {
            if (!e.getValue().isTextual()) {
                throw new IllegalArgumentException("run field " + e.getKey() + " is not a string");
            }
            m.put(e.getKey(), e.getValue().textValue());
        });
        return new RunIdentity(m);
    }

    /** The record an adapter folder keeps of the run that wrote it after {@code steps} steps (a JSON document). */
    public String record(long steps) {
        ObjectNode o = JSON.createObjectNode();
        o.put("steps_done", steps);
        o.set("run", toJsonNode());
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses a {@link #record}; a malformed one is an IllegalArgumentException saying what is wrong. */
    public static RunIdentity parseRecord(String json) {
        try {
            return fromJsonNode(JSON.readTree(json).get("run"));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "unreadable run record: "
                            + e.getOriginalMessage().lines().findFirst().orElse(""),
                    e);
        }
    }
}
