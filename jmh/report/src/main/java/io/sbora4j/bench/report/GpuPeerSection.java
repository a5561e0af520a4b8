package io.sbora4j.bench.report;

import static io.sbora4j.bench.report.Cells.NONE;
import static io.sbora4j.bench.report.Cells.num;

import io.sbora4j.bench.report.GpuFigures.LayerKey;
import io.sbora4j.bench.report.GpuFigures.LayerRow;
import io.sbora4j.bench.report.PeerResults.Peer;
import io.sbora4j.bench.report.PeerResults.PeerRun;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Section (c) of the GPU report: PyTorch + PEFT's forward + backward beside ours at the same shape, dtype and r, and
 * SBoRA-FA against the faster of PEFT's two LoRA forms.
 */
final class GpuPeerSection {

    private GpuPeerSection() {}

    /** Appends section (c), tallying SBoRA-FA / PEFT LoRA in {@code peft}. */
    static void render(StringBuilder sb, List<PeerRun> runs, List<LayerRow> layers, Targets targets, TargetTally peft) {
        sb.append("## (c) PyTorch + PEFT beside sbora4j\n\n");
        // (dtype, d_in, d_out, tokens) -> base; (..., r) -> method -> peer; later files win
        Map<List<Object>, Peer> base = new LinkedHashMap<>();
        Map<List<Object>, Map<String, Peer>> adapted = new LinkedHashMap<>();
        for (PeerRun run : runs) {
            for (Peer p : run.results()) {
                List<Object> shape = List.of(p.dtype(), p.dIn(), p.dOut(), p.tokens());
                if (Methods.BASE.equals(p.method())) {
                    base.put(shape, p);
                } else {
                    List<Object> k = new ArrayList<>(shape);
                    k.add(p.r());
                    adapted.computeIfAbsent(k, x -> new LinkedHashMap<>()).put(p.method(), p);
                }
            }
        }
        if (adapted.isEmpty()) {
            sb.append("Not measured: no peer results (bench/peers/peft_lora.py) in the inputs.\n\n");
            return;
        }
        for (PeerRun run : runs) {
            sb.append("- ")
                    .append(run.source())
                    .append(": torch ")
                    .append(run.torch())
                    .append(" on ")
                    .append(run.device())
                    .append(", ")
                    .append(run.time())
                    .append('\n');
        }
        sb.append('\n')
                .append("Milliseconds per forward + backward of one adapted layer at the same shape, dtype and ")
                .append("r. PEFT: median of its timed steps (CUDA events around each step; its x is a leaf, so ")
                .append("each step also accumulates x.grad). sbora4j: JMH's mean wall time per step, launch work ")
                .append("and a synchronize included, route fused. PEFT lora keeps its adapter weights in f32 on a ")
                .append("bf16 model (its default); lora-bf16 keeps them in bf16 (its fastest form). Target: SBoRA-FA ")
                .append("/ PEFT LoRA <= ")
                .append(num(targets.peftLoraRatioMax(), "%.2f"))
                .append(", against the faster of PEFT's two LoRA forms.\n\n");
        MarkdownTable t = new MarkdownTable(
                "dtype",
                "d x dout",
                "tokens",
                "r",
                "PEFT base",
                "PEFT lora",
                "PEFT lora-bf16",
                "PEFT dora",
                "ours base",
                "ours lora",
                "ours sbora-fa",
                "ours sbora-fb",
                "ours lora / PEFT lora",
                "sbora-fa / PEFT lora");
        List<List<Object>> keys = new ArrayList<>(adapted.keySet());
        keys.sort(GpuPeerSection::compareKeys);
        for (List<Object> k : keys) {
            String dtype = (String) k.get(0);
            int dIn = (Integer) k.get(1),
                    dOut = (Integer) k.get(2),
                    tokens = (Integer) k.get(3),
                    r = (Integer) k.get(4);
            Map<String, Peer> ps = adapted.get(k);
            Peer pb = base.get(k.subList(0, 4));
            LayerKey ours = new LayerKey(dtype, GpuFigures.FUSED, dIn, dOut, tokens, r);
            LayerRow row = layers.stream()
                    .filter(l -> l.key().equals(ours))
                    .findFirst()
                    .orElse(null);
            double peftF32Adapters = peerMs(ps.get(Methods.LORA));
            double peftBf16Adapters = peerMs(ps.get("lora-bf16"));
            double peftLora = Double.isNaN(peftBf16Adapters)
                    ? peftF32Adapters
                    : Double.isNaN(peftF32Adapters) ? peftBf16Adapters : Math.min(peftF32Adapters, peftBf16Adapters);
            double fa = row == null ? Double.NaN : row.ms(Methods.SBORA_FA);
            double ratio = fa / peftLora;
            String v = NONE;
            if (!Double.isNaN(ratio)) {
                peft.add(ratio, ours.label());
                v = num(ratio, "%.2f") + (peft.meets(ratio) ? " ok" : " MISSED");
            }
            t.row(List.of(
                    dtype,
                    dIn + " x " + dOut,
                    Integer.toString(tokens),
                    Integer.toString(r),
                    num(peerMs(pb), "%.3f"),
                    num(peftF32Adapters, "%.3f"),
                    num(peftBf16Adapters, "%.3f"),
                    num(peerMs(ps.get("dora")), "%.3f"),
                    num(ms(row, Methods.BASE), "%.3f"),
                    num(ms(row, Methods.LORA), "%.3f"),
                    num(fa, "%.3f"),
                    num(ms(row, Methods.SBORA_FB), "%.3f"),
                    num(ms(row, Methods.LORA) / peftLora, "%.2f"),
                    v));
        }
        sb.append(t.render()).append('\n');
    }

    private static double peerMs(Peer p) {
        return p == null ? Double.NaN : p.medianMs();
    }

    private static double ms(LayerRow row, String method) {
        return row == null ? Double.NaN : row.ms(method);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compareKeys(List<Object> a, List<Object> b) {
        for (int i = 0; i < a.size(); i++) {
            int c = ((Comparable) a.get(i)).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
