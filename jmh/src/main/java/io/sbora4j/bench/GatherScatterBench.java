package io.sbora4j.bench;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.peft.IndexSelection;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The four SBoRA column kernels alone, on a (tokens x d) activation and r distinct random columns, as the adapters
 * call them:
 *
 * <ul>
 *   <li>{@code gather}: {@code g = x[:, idx]} ({@link Backend#gatherCols}), SBoRA-FA's forward input;
 *   <li>{@code scatter}: {@code c[:, idx] += α·g} ({@link Backend#indexAddCols}), the scatter of a gradient;
 *   <li>{@code gather-gemm}: {@code c += α·x[:, idx]·Bᵀ} with B (d x r) f32 ({@link Backend#gatherGemm}),
 *       SBoRA-FA's forward adapter term;
 *   <li>{@code gemm-scatter}: {@code dx[:, idx] += α·dy·B} ({@link Backend#gemmScatter}), SBoRA-FA's backward
 *       into dx.
 * </ul>
 *
 * <p>One invocation launches the kernel {@value #LAUNCHES} times, then waits for the device
 * ({@link Backend#synchronize()}; GPU work is asynchronous); JMH divides by {@value #LAUNCHES}
 * ({@code @OperationsPerInvocation}), so the score is the time of one kernel with the wait spread over a batch.
 * A kernel at the layer's own shape (4096 tokens) takes about as long as a launch on a GPU, and its strided side
 * (tokens·r 32-byte sectors: 4 to 8 MiB) stays in the L2 cache between launches: such a run measures the
 * kernel's latency, not the memory's bandwidth. For a bandwidth figure, run enough tokens that one launch moves
 * several times the L2 ({@code -p tokens=131072}); inputs above {@value #TILE_ROWS} rows are the seeded
 * {@value #TILE_ROWS}-row block repeated (one gatherRows on the device), so that setup stays short.
 *
 * <p>α is 1e-3 so that the accumulating kernels keep their destinations bounded over millions of launches. The
 * report tool ({@code jmh/report}, {@code KernelTraffic}) counts the bytes each kernel moves and derives GB/s from
 * them; it assumes {@value #LAUNCHES} launches per invocation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@OperationsPerInvocation(GatherScatterBench.LAUNCHES)
public class GatherScatterBench {

    /** Kernel launches per invocation, before the one wait for the device. */
    public static final int LAUNCHES = 16;

    /** Inputs of more rows than this repeat a seeded block of this many rows. */
    public static final int TILE_ROWS = 4096;

    /** The scale of the accumulating kernels: small, so that destinations stay bounded. */
    static final float ALPHA = 1e-3f;

    /** The kernels, as the {@code kernel} parameter names them. */
    public static final String GATHER = "gather";

    public static final String SCATTER = "scatter";
    public static final String GATHER_GEMM = "gather-gemm";
    public static final String GEMM_SCATTER = "gemm-scatter";

    /** The backend: cpu, or cuda on a GPU machine ({@code -p device=cuda}). */
    @Param({"cpu"})
    public String device = "cpu";

    /** The activations' type: f32 or bf16 (B stays f32). */
    @Param({"f32"})
    public String dtype = "f32";

    @Param({"4096"})
    public int tokens;

    @Param({"4096"})
    public int d;

    @Param({"32", "64"})
    public int r;

    @Param({GATHER, SCATTER, GATHER_GEMM, GEMM_SCATTER})
    public String kernel;

    private Arena arena;
    private Backend backend;
    private Kernel which;
    private Tensor x;
    private Tensor idx;
    private Tensor g;
    private Tensor b;
    private Tensor c;

    private enum Kernel {
        GATHER,
        SCATTER,
        GATHER_GEMM,
        GEMM_SCATTER
    }

    @Setup(Level.Trial)
    public void setup() {
        which = kernel(kernel);
        arena = null;
        Device dev = BenchTensors.device(device);
        backend = Backends.of(dev);
        DType type = BenchTensors.dtype(dtype);
        arena = Arena.ofShared(); // setup and measurement may run on different JMH threads
        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
        // Distinct random columns, sorted, as an SBoRA layer draws them.
        idx = Tensor.ofInts(arena, dev, IndexSelection.draw(BenchTensors.SEED, "bench.gather", d, r), r);
        // x: the gathered activation (gather, gather-gemm) or dy (gemm-scatter); c: the destination (scatter,
        // gather-gemm) or dx (gemm-scatter); g: the gathered block (gather's output, scatter's source).
        if (which != Kernel.SCATTER) {
            x = activation(dev, type, rng);
        }
        if (which != Kernel.GATHER) {
            c = activation(dev, type, rng);
        }
        if (which == Kernel.GATHER || which == Kernel.SCATTER) {
            g = BenchTensors.gaussian(arena, dev, type, rng, 1, tokens, r);
        }
        if (which == Kernel.GATHER_GEMM || which == Kernel.GEMM_SCATTER) {
            b = BenchTensors.gaussian(arena, dev, DType.F32, rng, 0.01, d, r); // a trained factor's scale
        }
        backend.synchronize();
    }

    /** A seeded N(0, 1) (tokens x d) tensor; above {@link #TILE_ROWS} rows, a seeded block repeated. */
    private Tensor activation(Device dev, DType type, SplittableRandom rng) {
        if (tokens <= TILE_ROWS) {
            return BenchTensors.gaussian(arena, dev, type, rng, 1, tokens, d);
        }
        Tensor out = Tensor.empty(arena, dev, type, tokens, d);
        try (Arena tmp = Arena.ofShared()) {
            Tensor block = BenchTensors.gaussian(tmp, dev, type, rng, 1, TILE_ROWS, d);
            int[] rows = new int[tokens];
            for (int i = 0; i < tokens; i++) {
                rows[i] = i % TILE_ROWS;
            }
            backend.gatherRows(block, Tensor.ofInts(tmp, dev, rows, tokens), out);
            backend.synchronize(); // before tmp frees the block
        }
        return out;
    }

    @Benchmark
    @SuppressWarnings("try") // the scope is held for its extent: it frees a fallback path's temporaries
    public void launch() {
        try (MemoryScope scope = MemoryScope.open()) {
            for (int i = 0; i < LAUNCHES; i++) {
                switch (which) {
                    case GATHER -> backend.gatherCols(x, idx, g);
                    case SCATTER -> backend.indexAddCols(c, idx, g, ALPHA);
                    case GATHER_GEMM -> backend.gatherGemm(x, idx, b, true, ALPHA, c, null);
                    case GEMM_SCATTER -> backend.gemmScatter(x, b, false, idx, ALPHA, c);
                }
            }
            backend.synchronize(); // a GPU has only queued the launches so far
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (arena != null) { // null when setup refused the parameters
            backend.synchronize();
            arena.close();
        }
    }

    private static Kernel kernel(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case GATHER -> Kernel.GATHER;
            case SCATTER -> Kernel.SCATTER;
            case GATHER_GEMM -> Kernel.GATHER_GEMM;
            case GEMM_SCATTER -> Kernel.GEMM_SCATTER;
            default ->
                throw new IllegalArgumentException("kernel must be " + GATHER + ", " + SCATTER + ", " + GATHER_GEMM
                        + " or " + GEMM_SCATTER + ", not '" + name + "'");
        };
    }

    // For the tests.
    Tensor input() {
        return x;
    }

    Tensor indices() {
        return idx;
    }

    Tensor gathered() {
        return g;
    }

    Tensor factor() {
        return b;
    }

    Tensor destination() {
        return c;
    }
}
