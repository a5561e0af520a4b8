package io.sbora4j.bench.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The performance targets the reports check, read from {@code targets.json} (in {@code docs/bench/} by default),
 * where each has a one-line description.
 *
 * @param overheadRatioMax           SBoRA's adapter overhead at most this fraction of LoRA's
 * @param baseOverGemmMax            CPU: the frozen layer at most this multiple of the two raw cblas_sgemm calls
 * @param mergeLoraOverFbMin         CPU: LoRA's merge + unmerge at least this many times SBoRA-FB's
 * @param mergeLoraOverFaMin         CPU: LoRA's merge + unmerge at least this many times SBoRA-FA's
 * @param peftLoraRatioMax           GPU: SBoRA-FA's forward + backward at most this multiple of PyTorch + PEFT LoRA's
 * @param kernelBandwidthFractionMin GPU: the column kernels' DRAM traffic per second at least this fraction of the
 *                                   GPU's copy bandwidth ({@link GpuConstants#copyGbPerS()})
 * @param source                     the file they were read from, as the reports name it
 */
public record Targets(
        double overheadRatioMax,
        double baseOverGemmMax,
        double mergeLoraOverFbMin,
        double mergeLoraOverFaMin,
        double peftLoraRatioMax,
        double kernelBandwidthFractionMin,
        String source) {

    /** The file's name in the data folder. */
    public static final String FILE = "targets.json";

    private static final List<String> NAMES = List.of(
            "overhead_ratio_max",
            "base_over_gemm_max",
            "merge_lora_over_fb_min",
            "merge_lora_over_fa_min",
            "peft_lora_ratio_max",
            "kernel_bandwidth_fraction_min");

    /** The targets in {@code dataDir}/{@value #FILE}; fails naming any that is missing. */
    public static Targets read(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        String where = file.toString();
        Map<String, Double> v = DataFile.values(DataFile.object(DataFile.read(file), "targets", where), NAMES, where);
        return new Targets(
                v.get("overhead_ratio_max"),
                v.get("base_over_gemm_max"),
                v.get("merge_lora_over_fb_min"),
                v.get("merge_lora_over_fa_min"),
                v.get("peft_lora_ratio_max"),
                v.get("kernel_bandwidth_fraction_min"),
                where);
    }
}
