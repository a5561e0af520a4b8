package io.sbora4j.io;

/**
 * Fault injection for tests: a disk that fills up after so many more bytes, for every writer of this package (files,
 * safetensors, adapters, models, checkpoints). The writer that crosses the limit writes what fits and fails with
 * "No space left on device", as a real full disk does.
 */
public final class DiskFull implements AutoCloseable {

    private final long budget;

    private DiskFull(long budget) {
        this.budget = budget;
        AtomicFiles.WRITE_BUDGET.set(budget);
    }

    /** The disk fills up after {@code bytes} more bytes, until {@link #close}. */
    public static DiskFull after(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must be >= 0");
        }
        return new DiskFull(bytes);
    }

    /** Counts the bytes written, without a limit that is ever reached, until {@link #close}. */
    public static DiskFull counting() {
        return new DiskFull(Long.MAX_VALUE / 2);
    }

    /** Bytes written since this was opened (all of the budget, once the disk is full). */
    public long written() {
        long left = AtomicFiles.WRITE_BUDGET.get();
        return budget - Math.max(left, 0);
    }

    /** The disk has room again. */
    @Override
    public void close() {
        AtomicFiles.WRITE_BUDGET.set(-1);
    }
}
