package io.sbora4j.backend;

/**
 * The tuning choices of a backend, fixed when it is opened ({@link Backends#open}); a backend ignores the ones that
 * mean nothing to it. {@link #DEFAULTS} is what {@link Backends#of} and the default devices use.
 *
 * @param threads        threads the backend's kernels may use; 0 means every core
 * @param sboraGemms     how {@link Backend#gatherGemm} and {@link Backend#gemmScatter} run
 * @param tensorCores    whether bf16 kernels of our own may use tensor cores (cuda; false uses the SIMT form)
 */
public record BackendOptions(int threads, SboraGemms sboraGemms, boolean tensorCores) {

    /** What every default device uses: all cores, the backend's own choice of route, tensor cores where present. */
    public static final BackendOptions DEFAULTS = new BackendOptions(0, SboraGemms.AUTO, true);

    /** The route of SBoRA's gather and scatter GEMMs. */
    public enum SboraGemms {
        /** The backend picks, by shape where it measured a crossover. */
        AUTO,
        /** One fused kernel: the gather folded into the GEMM's loads, the scatter into its stores. */
        FUSED,
        /** A gather (or a GEMM into a temporary), then the BLAS GEMM (or an index-add). */
        UNFUSED
    }

    public BackendOptions {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0: all cores), got " + threads);
        }
        if (sboraGemms == null) {
            throw new IllegalArgumentException("sboraGemms must be given");
        }
    }

    public BackendOptions withThreads(int n) {
        return new BackendOptions(n, sboraGemms, tensorCores);
    }

    public BackendOptions withSboraGemms(SboraGemms route) {
        return new BackendOptions(threads, route, tensorCores);
    }

    public BackendOptions withTensorCores(boolean on) {
        return new BackendOptions(threads, sboraGemms, on);
    }
}
