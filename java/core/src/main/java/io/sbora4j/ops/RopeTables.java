package io.sbora4j.ops;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;

/**
 * The cos and sin tables of rotary position embeddings for one head width, computed as HF's LlamaRotaryEmbedding
 * does in float32: inv_freq[j] = 1 / θ^(2j/d), angle = pos · inv_freq[j]. Each table has one row of headDim/2
 * values per position.
 *
 * <p>Built with the constructor, the tables hold every position of [0, maxPositions) at once. Built with
 * {@link #onDemand}, they hold the positions runs have used so far: {@link #ensure} grows them (at least doubling)
 * to the longest sequence seen, never past {@code maxPositions}, so that a model whose config allows millions of
 * positions costs what its sequences use. A row's values do not depend on how many rows the tables hold, so growing
 * them changes no result.
 */
public final class RopeTables {

    /** Positions computed at the least when tables grow, so that short sequences do not regrow them one by one. */
    static final int MIN_POSITIONS = 64;

    /** The cos and sin tables of one size, taken together. */
    record Pair(Tensor cos, Tensor sin, int positions) {}

    private final Arena arena;
    private final Device device;
    private final int headDim;
    private final int maxPositions;
    private final boolean grows;
    private final float[] invFreq;
    private volatile Pair tables;

    /**
     * The tables of every position of [0, maxPositions), owned by {@code arena}.
     *
     * @throws IllegalArgumentException if headDim is not even and positive, maxPositions not positive, theta not
     *                                  positive and finite, or the tables would not fit in a Java array
     */
    public RopeTables(Arena arena, Device device, int headDim, int maxPositions, double theta) {
        this(arena, device, headDim, maxPositions, theta, false);
    }

    private RopeTables(Arena arena, Device device, int headDim, int maxPositions, double theta, boolean grows) {
        this(arena, device, headDim, maxPositions, plainInvFreq(headDim, theta), grows);
    }

    private RopeTables(Arena arena, Device device, int headDim, int maxPositions, float[] invFreq, boolean grows) {
        if (headDim < 2 || headDim % 2 != 0) {
            throw new IllegalArgumentException("rope: head_dim " + headDim + " must be even and at least 2");
        }
        if (maxPositions < 1) {
            throw new IllegalArgumentException("rope: max_position_embeddings " + maxPositions + " must be >= 1");
        }
        if (invFreq.length != headDim / 2) {
            throw new IllegalArgumentException(
                    "rope: " + invFreq.length + " inverse frequencies for head_dim " + headDim);
        }
        this.arena = arena;
        this.device = device;
        this.headDim = headDim;
        this.maxPositions = maxPositions;
        this.grows = grows;
        this.invFreq = invFreq.clone();
        this.tables = compute(grows ? Math.min(maxPositions, MIN_POSITIONS) : maxPositions);
    }

    /** HF's default inverse frequencies, checking theta. */
    private static float[] plainInvFreq(int headDim, double theta) {
        if (headDim < 2 || headDim % 2 != 0) {
            throw new IllegalArgumentException("rope: head_dim " + headDim + " must be even and at least 2");
        }
        if (!(theta > 0) || !Double.isFinite(theta)) {
            throw new IllegalArgumentException("rope: rope_theta " + theta + " must be positive and finite");
        }
        return RopeScaling.NONE.invFreq(headDim, theta, 0);
    }

    /**
     * Tables that hold the first {@value #MIN_POSITIONS} positions (or maxPositions, if fewer) and grow as
     * {@link #ensure} asks, up to {@code maxPositions}. On a host
     * device each size lives in memory the garbage collector frees once the next size replaces it (so the tables
     * may grow from any thread); on another device in {@code arena}, which must then allow allocation from the
     * thread that grows them.
     */
    public static RopeTables onDemand(Arena arena, Device device, int headDim, int maxPositions, double theta) {
        return new RopeTables(arena, device, headDim, maxPositions, theta, true);
    }

    /**
     * {@link #onDemand(Arena, Device, int, int, double)} over given inverse frequencies (headDim/2 of them, as
     * {@link RopeScaling#invFreq} computes them): angle = pos · invFreq[j] in float32.
     */
    public static RopeTables onDemand(Arena arena, Device device, int headDim, int maxPositions, float[] invFreq) {
        return new RopeTables(arena, device, headDim, maxPositions, invFreq, true);
    }

    /**
     * Makes the tables hold at least positions [0, positions): grows them to the larger of {@code positions}, twice
     * their size and {@value #MIN_POSITIONS}, capped at {@code maxPositions}.
     *
     * @throws IllegalArgumentException if {@code positions} exceeds {@code maxPositions}
     */
    public void ensure(int positions) {
        if (positions <= tables.positions()) {
            return;
        }
        if (positions > maxPositions) {
            throw new IllegalArgumentException(
                    "rope: position " + (positions - 1L) + " lies beyond max_position_embeddings " + maxPositions);
        }
        synchronized (this) {
            int have = tables.positions();
            if (positions > have) {
                long grown = Math.max(positions, Math.max(MIN_POSITIONS, 2L * have));
                tables = compute((int) Math.min(maxPositions, grown));
            }
        }
    }

    /** The tables of {@code n} positions. */
    private Pair compute(int n) {
        int h = headDim / 2;
        long values = (long) n * h;
        if (values > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("rope: tables of " + n + " positions x " + h + " values are more than"
                    + " a table can hold; build them with RopeTables.onDemand, which computes the positions used");
        }
        float[] c = new float[(int) values], s = new float[(int) values];
        for (int j = 0; j < h; j++) {
            float f = invFreq[j];
            for (int p = 0; p < n; p++) {
                float angle = p * f; // float32, as torch multiplies the float position by inv_freq
                c[p * h + j] = (float) Math.cos(angle);
                s[p * h + j] = (float) Math.sin(angle);
            }
        }
        Arena owner = grows && device.isHost() ? Arena.ofAuto() : arena;
        return new Pair(Tensor.of(owner, device, c, n, h), Tensor.of(owner, device, s, n, h), n);
    }

    /** The current cos and sin tables, of one size. */
    Pair current() {
        return tables;
    }

    /** The cos table: one row of headDim/2 values per position it holds. */
    public Tensor cos() {
        return tables.cos();
    }

    /** The sin table, of the cos table's shape. */
    public Tensor sin() {
        return tables.sin();
    }

    /** How many positions the tables hold now: [0, positions()). */
    public int positions() {
        return tables.positions();
    }

    public int headDim() {
        return headDim;
    }

    /** The most positions the tables may hold. */
    public int maxPositions() {
        return maxPositions;
    }
}
