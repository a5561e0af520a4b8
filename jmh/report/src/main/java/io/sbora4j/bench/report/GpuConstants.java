package io.sbora4j.bench.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The constants of the GPU the GPU report reads its bandwidth figures against, one entry of {@code machines.json}
 * (in {@code docs/bench/} by default), where each has a note on where it comes from.
 *
 * @param id                the entry's key, e.g. {@code h200}
 * @param name              the GPU as the report names it
 * @param copyGbPerS        device-to-device copy bandwidth, GB/s (decimal), bytes read plus written: the practical
 *                          ceiling of a memory-bound kernel, which percentages of peak are of
 * @param l2Bytes           the L2 cache: a launch moving less than twice this is served from it, not from DRAM
 * @param peakBf16TflopPerS dense bf16 tensor-core peak, TFLOP/s
 * @param source            the file they were read from, as the report names it
 */
public record GpuConstants(
        String id, String name, double copyGbPerS, double l2Bytes, double peakBf16TflopPerS, String source) {

    /** The file's name in the data folder. */
    public static final String FILE = "machines.json";

    /** The entry the GPU report uses unless told otherwise. */
    public static final String DEFAULT = "h200";

    private static final List<String> NAMES = List.of("copy_gb_per_s", "l2_bytes", "peak_bf16_tflop_per_s");

    /** The entry {@code id} of {@code dataDir}/{@value #FILE}. */
    public static GpuConstants read(Path dataDir, String id) throws IOException {
        Path file = dataDir.resolve(FILE);
        String where = file.toString();
        var machines = DataFile.object(DataFile.read(file), "machines", where);
        if (!machines.path(id).isObject()) {
            throw new IllegalArgumentException(where + " has no machine '" + id + "' (it has "
                    + machines.properties().stream().map(Map.Entry::getKey).toList() + ")");
        }
        var entry = machines.get(id);
        Map<String, Double> v = DataFile.values(entry, NAMES, where + " (" + id + ")");
        return new GpuConstants(
                id,
                entry.path("name").asText(id),
                v.get("copy_gb_per_s"),
                v.get("l2_bytes"),
                v.get("peak_bf16_tflop_per_s"),
                where);
    }
}
