package io.sbora4j.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads what {@code bench/peers/peft_lora.py} writes: the PyTorch + PEFT peer of AdapterLayerBench on a GPU.
 *
 * <pre>
 * {"torch": "2.11.0+cu130", "device": "NVIDIA H200", "time": "2026-...Z",
 *  "results": [{"method": "lora", "d_in": 4096, "d_out": 11008, "r": 32, "tokens": 4096,
 *               "dtype": "torch.bfloat16", "median_ms": 1.23, "min_ms": 1.20}, ...]}
 * </pre>
 *
 * The base layer is written with r = 1 (it has none); its dtype as torch prints it, mapped here to the names of the
 * benchmarks' {@code dtype} parameter (bf16, f32).
 */
public final class PeerResults {

    private static final ObjectMapper JSON = new ObjectMapper();

    private PeerResults() {}

    /** One peer measurement: fwd + bwd of one {@code nn.Linear(d_in, d_out)} with PEFT's {@code method}. */
    public record Peer(
            String method, int dIn, int dOut, int r, int tokens, String dtype, double medianMs, double minMs) {}

    /** One peer file: the versions it ran with and its measurements. */
    public record PeerRun(String source, String torch, String device, String time, List<Peer> results) {

        public PeerRun {
            results = List.copyOf(results);
        }
    }

    /** The run in {@code file}. */
    public static PeerRun read(Path file) throws IOException {
        return parse(JSON.readTree(file.toFile()), file.getFileName().toString());
    }

    /** The run in a JSON text. */
    public static PeerRun parse(String json, String source) throws IOException {
        return parse(JSON.readTree(json), source);
    }

    private static PeerRun parse(JsonNode root, String source) {
        if (root == null || !root.isObject() || !root.path("results").isArray()) {
            throw new IllegalArgumentException(source + " is not a peer result file (expected {\"results\": [...]})");
        }
        List<Peer> out = new ArrayList<>();
        for (JsonNode n : root.path("results")) {
            out.add(new Peer(
                    n.path("method").asText(""),
                    n.path("d_in").asInt(),
                    n.path("d_out").asInt(),
                    n.path("r").asInt(),
                    n.path("tokens").asInt(),
                    dtype(n.path("dtype").asText("")),
                    n.path("median_ms").asDouble(Double.NaN),
                    n.path("min_ms").asDouble(Double.NaN)));
        }
        return new PeerRun(
                source,
                root.path("torch").asText("?"),
                root.path("device").asText("?"),
                root.path("time").asText("?"),
                out);
    }

    /** torch's dtype names as the benchmarks' {@code dtype} parameter spells them. */
    static String dtype(String torch) {
        String t = torch.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "torch.bfloat16", "bfloat16", "bf16" -> "bf16";
            case "torch.float32", "float32", "torch.float", "f32", "fp32" -> "f32";
            case "torch.float16", "float16", "f16", "fp16" -> "f16";
            default -> t;
        };
    }
}
