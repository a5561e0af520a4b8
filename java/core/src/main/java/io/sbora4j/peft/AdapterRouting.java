package io.sbora4j.peft;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Which adapter each row of a batch goes through, for one forward pass over many adapters at once (a mixed batch):
 * while a routing is {@linkplain #open() open} on a thread, every {@link AdaptedLinear#forward(Tensor)} on that
 * thread runs the base GEMM once over all rows and then, per adapter, the adapter path over that adapter's rows only
 * (rows routed to no adapter, and rows whose adapter the layer lacks, keep the base output). Inference only: the
 * result is not recorded by autograd.
 *
 * <p>The rows are those of the linear layers' inputs flattened to (tokens x in): for a (batch, seq) batch of token
 * ids that is row {@code b·seq + t}, so {@link #perSequence} routes whole sequences. A thread-local scope rather than
 * an argument keeps the model's forward (which knows nothing of adapters) unchanged:
 *
 * <pre>{@code
 * try (AdapterRouting ignored = AdapterRouting.perSequence(Arrays.asList("math", null, "code"), seq).open()) {
 *     Tensor logits = model.logits(ids);   // sequence 1 through the base alone
 * }
 * }</pre>
 *
 * <p>A routing is used by one thread; it caches the row indices it uploads to a device.
 */
public final class AdapterRouting implements AutoCloseable {

    private static final ThreadLocal<AdapterRouting> CURRENT = new ThreadLocal<>();

    /**
     * The rows of one adapter: sorted, with the contiguous runs they form, so a group that is one run is computed
     * on views of x and y without gathering.
     */
    record Group(String name, int[] rows, List<int[]> runs, Map<Device, Tensor> uploaded) {

        boolean contiguous() {
            return runs.size() == 1;
        }

        /** The rows as an i32 index tensor on {@code device}, uploaded once per routing. */
        Tensor rowIndex(Device device) {
            // Its own memory, not a MemoryScope's: the routing may outlive the scope of one forward.
            return uploaded.computeIfAbsent(device, d -> Tensor.ofInts(Arena.ofAuto(), d, rows, rows.length));
        }
    }

    private final int rows;
    private final List<String> perRow;
    private final List<Group> groups;
    private AdapterRouting previous;
    private boolean opened;

    private AdapterRouting(List<String> perRow) {
        this.rows = perRow.size();
        this.perRow = Collections.unmodifiableList(new ArrayList<>(perRow));
        Map<String, List<Integer>> byName = new LinkedHashMap<>();
        for (int i = 0; i < perRow.size(); i++) {
            String n = perRow.get(i);
            if (n != null) {
                byName.computeIfAbsent(n, k -> new ArrayList<>()).add(i);
            }
        }
        List<Group> gs = new ArrayList<>();
        byName.forEach((name, list) -> {
            int[] r = list.stream().mapToInt(Integer::intValue).toArray();
            List<int[]> runs = new ArrayList<>();
            int start = r[0];
            for (int i = 1; i <= r.length; i++) {
                if (i == r.length || r[i] != r[i - 1] + 1) {
                    runs.add(new int[] {start, r[i - 1] - start + 1});
                    if (i < r.length) {
                        start = r[i];
                    }
                }
            }
            gs.add(new Group(name, r, List.copyOf(runs), new LinkedHashMap<>()));
        });
        this.groups = List.copyOf(gs);
    }

    /** Row i through adapter {@code perRow.get(i)}; null entries run the base alone. */
    public static AdapterRouting perRow(List<String> perRow) {
        Objects.requireNonNull(perRow, "perRow");
        return new AdapterRouting(perRow);
    }

    /**
     * Sequence b (rows {@code b·seqLen} to {@code (b+1)·seqLen - 1}) through adapter {@code perSequence.get(b)}; null
     * entries run the base alone.
     */
    public static AdapterRouting perSequence(List<String> perSequence, int seqLen) {
        Objects.requireNonNull(perSequence, "perSequence");
        if (seqLen <= 0) {
            throw new IllegalArgumentException("sequence length must be positive, got " + seqLen);
        }
        List<String> rows = new ArrayList<>(perSequence.size() * seqLen);
        for (String n : perSequence) {
            for (int t = 0; t < seqLen; t++) {
                rows.add(n);
            }
        }
        return new AdapterRouting(rows);
    }

    /** The routing open on this thread, or null. */
    public static AdapterRouting current() {
        return CURRENT.get();
    }

    /**
     * Makes this routing the one the adapted layers of this thread consult, until {@link #close()} (which puts back
     * the one open before, if any).
     */
    public AdapterRouting open() {
        if (opened) {
            throw new IllegalStateException("this routing is already open");
        }
        previous = CURRENT.get();
        CURRENT.set(this);
        opened = true;
        return this;
    }

    @Override
    public void close() {
        if (!opened) {
            return;
        }
        opened = false;
        if (previous == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(previous);
        }
        previous = null;
    }

    /** The number of rows routed: the number of rows every adapted layer's input must have. */
    public int rows() {
        return rows;
    }

    /** The adapter of each row (null: the base), in row order. */
    public List<String> perRow() {
        return perRow;
    }

    /** The distinct adapter names routed to, in order of first use. */
    public Set<String> adapterNames() {
        Set<String> s = new LinkedHashSet<>();
        groups.forEach(g -> s.add(g.name()));
        return s;
    }

    List<Group> groups() {
        return groups;
    }
}
