package io.sbora4j.bench.report;

/**
 * The bytes one MergeBench invocation (merge, then unmerge) moves for the SBoRA methods on a square d x d f32
 * weight, and the bandwidth that makes. Both merges are read-modify-write of r slices of W plus a read of the
 * trained factor; they differ in the shape of the slices:
 *
 * <ul>
 *   <li>SBoRA-FB changes r whole rows: contiguous, so the bytes the math needs are the bytes the memory moves.
 *   <li>SBoRA-FA changes r columns: each of the d rows touches r floats that are (unless two indices are within
 *       16 columns) in r different 64-byte cache lines, and each whole line is read and written back.
 * </ul>
 */
public final class MergeTraffic {

    static final long FLOAT_BYTES = 4;
    static final long CACHE_LINE_BYTES = 64;
    /** merge + unmerge. */
    static final long DIRECTIONS = 2;

    private MergeTraffic() {}

    /** SBoRA-FB: 2 × (r·d·4 read + r·d·4 written of W's rows, + r·d·4 read of A). */
    public static long sboraFbBytes(long d, long r) {
        return DIRECTIONS * (2 * r * d * FLOAT_BYTES + r * d * FLOAT_BYTES);
    }

    /** SBoRA-FA, useful bytes: 2 × (d·r·4 read + d·r·4 written of W's columns, + d·r·4 read of B). */
    public static long sboraFaUsefulBytes(long d, long r) {
        return DIRECTIONS * (2 * d * r * FLOAT_BYTES + d * r * FLOAT_BYTES);
    }

    /**
     * SBoRA-FA, cache-line bytes: 2 × (d·r·64 read + d·r·64 written back, + d·r·4 read of B, which is
     * contiguous). An upper bound: indices that share a cache line share its traffic.
     */
    public static long sboraFaCacheLineBytes(long d, long r) {
        return DIRECTIONS * (2 * d * r * CACHE_LINE_BYTES + d * r * FLOAT_BYTES);
    }

    /** Decimal GB per second for {@code bytes} moved in {@code ms}; NaN when the time is unknown. */
    public static double gbPerSecond(long bytes, double ms) {
        return ms > 0 ? bytes / (ms * 1e-3) / 1e9 : Double.NaN;
    }

    /** The formulas above, as the report prints them. */
    public static String describe() {
        return """
                Bytes per merge + unmerge of an f32 d x d weight (×2 for the two directions):
                - SBoRA-FB: 2 × (2·r·d·4 + r·d·4): r rows of W read and written, A (r x d) read; contiguous, so \
                useful bytes = cache-line bytes.
                - SBoRA-FA useful: 2 × (2·d·r·4 + d·r·4): r columns of W read and written, B (d x r) read.
                - SBoRA-FA cache lines: 2 × (2·d·r·64 + d·r·4): each of the d rows touches r separate 64-byte \
                lines, each read and written back (an upper bound: indices within 16 columns share a line).
                """;
    }
}
