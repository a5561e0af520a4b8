package io.sbora4j.bench.report;

/** The performance targets the report checks, in one place so that tables and tests agree. */
public final class Targets {

    /** SBoRA's adapter overhead (method time − base time) at most this fraction of LoRA's. */
    public static final double OVERHEAD_RATIO_MAX = 0.55;

    /** The frozen layer's forward + backward at most this multiple of the same two raw cblas_sgemm calls. */
    public static final double BASE_OVER_GEMM_MAX = 1.15;

    /** LoRA's merge + unmerge at least this many times SBoRA-FB's. */
    public static final double MERGE_LORA_OVER_FB_MIN = 50;

    /** LoRA's merge + unmerge at least this many times SBoRA-FA's. */
    public static final double MERGE_LORA_OVER_FA_MIN = 10;

    private Targets() {}
}
