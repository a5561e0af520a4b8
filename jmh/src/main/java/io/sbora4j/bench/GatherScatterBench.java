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
 * <p>α is 1e-3 so that the accumulating kernels keep their destinations bounded over millions of launches.
 * {@link #usefulBytes} and {@link #sectorBytes} give the bytes each kernel moves, from which the report
 * ({@code GpuReport}) derives GB/s.
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

    /** Bytes of a DRAM sector, the unit a GPU's memory moves: a strided element costs a whole one. */
    public static final int SECTOR_BYTES = 32;

    /** The f32 factor B (d x r): 4 bytes an element whatever the activations' type. */
    private static final int FACTOR_BYTES = 4;

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

    /**
     * The bytes {@code kernel} must move at least, once, at (tokens, d, r) with activations of {@code elemBytes}
     * bytes (B is f32, 4 bytes), each byte counted once however the memory serves it:
     *
     * <ul>
     *   <li>gather: T·r elements read (the gathered columns) and T·r written: 2·T·r·e;
     *   <li>scatter: T·r read from the source, T·r read and written in the destination's columns: 3·T·r·e;
     *   <li>gather-gemm: T·r gathered, B (d·r·4) read, c (T x d) read and written: T·r·e + 4·d·r + 2·T·d·e;
     *   <li>gemm-scatter: dy (T x d) read, B read, dx's r columns read and written: T·d·e + 4·d·r + 2·T·r·e.
     * </ul>
     * The index list (r·4 bytes) is left out.
     */
    public static long usefulBytes(String kernel, int tokens, int d, int r, int elemBytes) {
        long t = tokens, n = d, k = r, e = elemBytes;
        return switch (kernel(kernel)) {
            case GATHER -> 2 * t * k * e;
            case SCATTER -> 3 * t * k * e;
            case GATHER_GEMM -> t * k * e + FACTOR_BYTES * n * k + 2 * t * n * e;
            case GEMM_SCATTER -> t * n * e + FACTOR_BYTES * n * k + 2 * t * k * e;
        };
    }

    /**
     * The bytes the DRAM moves for {@code kernel} when every strided element costs a whole {@value #SECTOR_BYTES}-byte
     * sector, as on a GPU: as {@link #usefulBytes} with each element of the strided (column) side counted as
     * {@value #SECTOR_BYTES} bytes, each read and each write-back:
     *
     * <ul>
     *   <li>gather: T·r sectors read, T·r elements written contiguously: 32·T·r + T·r·e;
     *   <li>scatter: T·r sectors read and written back, the source read contiguously: 2·32·T·r + T·r·e;
     *   <li>gather-gemm: 32·T·r + 4·d·r + 2·T·d·e;
     *   <li>gemm-scatter: T·d·e + 4·d·r + 2·32·T·r.
     * </ul>
     * An upper bound: two indices within one sector (8 f32 or 16 bf16 columns apart) share it.
     */
    public static long sectorBytes(String kernel, int tokens, int d, int r, int elemBytes) {
        long t = tokens, n = d, k = r, e = elemBytes, s = SECTOR_BYTES;
        return switch (kernel(kernel)) {
            case GATHER -> s * t * k + t * k * e;
            case SCATTER -> 2 * s * t * k + t * k * e;
            case GATHER_GEMM -> s * t * k + FACTOR_BYTES * n * k + 2 * t * n * e;
            case GEMM_SCATTER -> t * n * e + FACTOR_BYTES * n * k + 2 * s * t * k;
        };
    }

    /** The multiply-adds of the GEMM kernels, as flops (2·T·r·d); 0 for gather and scatter. */
    public static double flops(String kernel, int tokens, int d, int r) {
        return switch (kernel(kernel)) {
            case GATHER, SCATTER -> 0;
            case GATHER_GEMM, GEMM_SCATTER -> 2.0 * tokens * r * (double) d;
        };
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
