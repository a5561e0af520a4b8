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

    /** GPU: SBoRA-FA's adapted-layer forward + backward at most this multiple of PyTorch + PEFT LoRA's (no slower). */
    public static final double PEFT_LORA_RATIO_MAX = 1.0;

    /**
     * GPU: the SBoRA column kernels' DRAM traffic (32-byte sectors) per second at least this fraction of the
     * device's copy bandwidth ({@link H200#COPY_GB_PER_S}), where one launch moves enough to stream past the L2.
     */
    public static final double KERNEL_BANDWIDTH_FRACTION_MIN = 0.60;

    private Targets() {}
}
