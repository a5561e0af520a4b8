package io.sbora4j.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Exact hot-swap: after any sequence of swaps between adapters of every method (and the base), putting the base back
 * gives weights bit-identical to the original, on the cpu and reference backends, f32 and bf16; and after swapping
 * to X the model computes what X's unmerged adapter computed.
 */
class HotSwapProperties {

    /** Entries 0..4 swap to that adapter, 5 swaps to the base. */
    @Provide
    Arbitrary<List<Integer>> swaps() {
        return Arbitraries.integers().between(0, 5).list().ofMinSize(1).ofMaxSize(12);
    }

    @Property(tries = 16)
    void anySequenceOfSwapsRestoresTheBaseBitForBit(
            @ForAll("swaps") List<Integer> swaps,
            @ForAll boolean onReference,
            @ForAll boolean bf16,
            @ForAll long seed) {
        Device device = onReference ? Device.REFERENCE : Device.CPU;
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.random(ServeFixtures.CFG, seed, device, arena);
            if (bf16) {
                model.useBf16Projections(arena);
            }
            AdapterRegistry<LlamaModel> reg = AdapterRegistry.over(model);
            SplittableRandom rng = new SplittableRandom(seed);
            List<String> names = new ArrayList<>();
            List<AdapterMethod> methods = List.of(
                    AdapterMethods.SBORA_FA,
                    AdapterMethods.SBORA_FB,
                    AdapterMethods.LORA,
                    AdapterMethods.LORA_FA,
                    AdapterMethods.DORA);
            for (AdapterMethod m : methods) {
                if (bf16 && m == AdapterMethods.DORA) {
                    continue; // DoRA refuses a bf16 base (its norm runs in f32)
                }
                AdapterConfig cfg = AdapterConfig.of(m, 4, 8).withSeed(rng.nextLong());
                String name = m.id().replace('.', '_');
                reg.add(name, cfg, ServeFixtures.randomTensors(model, cfg, rng));
                names.add(name);
            }
            // A negative zero is where restoring by arithmetic (W - W + saved) would lose a bit.
            model.linearLayers().values().forEach(l -> l.frozen().denseWeight().setFloat(1, -0.0f));
            Map<String, int[]> base = ServeFixtures.weightBits(model);
            Tensor ids = ServeFixtures.ids(device, rng, 2, 5);
            Map<String, float[]> unmerged = new LinkedHashMap<>();
            for (String n : names) {
                unmerged.put(n, reg.logits(ids, List.of(n, n)).toFloatArray());
            }
            float[] baseLogits = reg.withModel(m -> m.logits(ids)).toFloatArray();
            for (int op : swaps) {
                if (op >= names.size()) {
                    reg.swapToBase();
                    assertEquals(null, reg.swapped());
                    continue;
                }
                String n = names.get(op);
                reg.swapTo(n);
                assertEquals(n, reg.swapped());
                float[] merged = reg.withModel(m -> m.logits(ids)).toFloatArray();
                double err = ServeFixtures.relError(merged, unmerged.get(n));
                assertTrue(err < (bf16 ? 3e-2 : 1e-5), n + " swapped in: logits off by " + err + " (relative)");
            }
            reg.swapToBase();
            Map<String, int[]> after = ServeFixtures.weightBits(model);
            for (var e : base.entrySet()) {
                assertArrayEquals(e.getValue(), after.get(e.getKey()), e.getKey() + " is not the base bit for bit");
            }
            assertArrayEquals(baseLogits, reg.withModel(m -> m.logits(ids)).toFloatArray());
        }
    }
}
