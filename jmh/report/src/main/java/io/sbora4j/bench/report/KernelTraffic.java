package io.sbora4j.bench.report;

import java.util.Locale;

/**
 * The bytes and flops of one launch of an SBoRA column kernel, as {@code GatherScatterBench} runs them on a
 * (tokens x d) activation of e-byte elements and r distinct columns, with the trained factor B (d x r) in f32:
 *
 * <ul>
 *   <li>{@code gather}: {@code g = x[:, idx]};
 *   <li>{@code scatter}: {@code c[:, idx] += α·g};
 *   <li>{@code gather-gemm}: {@code c += α·x[:, idx]·Bᵀ};
 *   <li>{@code gemm-scatter}: {@code dx[:, idx] += α·dy·B}.
 * </ul>
 */
public final class KernelTraffic {

    /** Launches per JMH invocation, before one synchronize: {@code GatherScatterBench.LAUNCHES}. */
    public static final int LAUNCHES_PER_INVOCATION = 16;

    /** Bytes of a DRAM sector, the unit a GPU's memory moves: a strided element costs a whole one. */
    public static final int SECTOR_BYTES = 32;

    /** The f32 factor B: 4 bytes an element whatever the activations' type. */
    private static final int FACTOR_BYTES = 4;

    private KernelTraffic() {}

    /**
     * The bytes {@code kernel} must move at least, each counted once however the memory serves it:
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
            case "gather" -> 2 * t * k * e;
            case "scatter" -> 3 * t * k * e;
            case "gather-gemm" -> t * k * e + FACTOR_BYTES * n * k + 2 * t * n * e;
            default -> t * n * e + FACTOR_BYTES * n * k + 2 * t * k * e; // gemm-scatter
        };
    }

    /**
     * The bytes the DRAM moves when every strided element costs a whole {@value #SECTOR_BYTES}-byte sector, as on a
     * GPU: {@link #usefulBytes} with each element of the strided (column) side counted as a sector, each read and
     * each write-back:
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
            case "gather" -> s * t * k + t * k * e;
            case "scatter" -> 2 * s * t * k + t * k * e;
            case "gather-gemm" -> s * t * k + FACTOR_BYTES * n * k + 2 * t * n * e;
            default -> t * n * e + FACTOR_BYTES * n * k + 2 * s * t * k; // gemm-scatter
        };
    }

    /** The multiply-adds of the GEMM kernels, as flops (2·T·r·d); 0 for gather and scatter. */
    public static double flops(String kernel, int tokens, int d, int r) {
        return kernel(kernel).contains("gemm") ? 2.0 * tokens * r * (double) d : 0;
    }

    /** The kernel's name, normalised; fails for a name GatherScatterBench does not run. */
    private static String kernel(String name) {
        String k = name.trim().toLowerCase(Locale.ROOT);
        return switch (k) {
            case "gather", "scatter", "gather-gemm", "gemm-scatter" -> k;
            default ->
                throw new IllegalArgumentException(
                        "kernel must be gather, scatter, gather-gemm or gemm-scatter, not '" + name + "'");
        };
    }
}
