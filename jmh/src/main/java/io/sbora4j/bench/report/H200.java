package io.sbora4j.bench.report;

/** The GPU the bandwidth figures of the GPU report are read against: an NVIDIA H200 (SXM, 141 GB HBM3e). */
public final class H200 {

    /**
     * Device-to-device copy bandwidth in GB/s (decimal), bytes read plus bytes written: about 4.3 TB/s, as a PyTorch
     * copy of 8.6 GB in 2.0 ms measured on the H200 machines these runs use (docs of the GPU lease, 2026-10). The
     * datasheet's 4.8 TB/s is the pins' rate, which no kernel reaches; a copy is the practical ceiling of a
     * memory-bound kernel, so percentages are of this.
     */
    public static final double COPY_GB_PER_S = 4300;

    /**
     * The L2 cache in bytes: 60 MB as PyTorch reports it on this H200. A kernel whose launch moves less than twice
     * this is served largely from the L2 when launched repeatedly on the same data, so its GB/s is no DRAM figure.
     */
    public static final double L2_BYTES = 60e6;

    private H200() {}
}
