package io.sbora4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.ops.Rope;
import io.sbora4j.ops.RopeTables;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RoPE tables are sized by the positions a run uses, not by the largest value a config allows: a config.json with
 * max_position_embeddings of 2^31 - 1 runs three tokens as fast as one with 64, to the same logits, and the limits
 * that remain are errors that name the field.
 */
class PositionTablesTest {

    private static final int[] IDS = {5, 17, 42};

    private static LlamaConfig config(int maxPositions) {
        return new LlamaConfig(97, 32, 48, 2, 4, 2, 1e-5, 10000, maxPositions, false);
    }

    private static float[] logits(LlamaConfig cfg, int... ids) {
        try (Arena arena = Arena.ofConfined();
                NoGrad ignored = NoGrad.enter()) {
            LlamaModel m = LlamaModel.random(cfg, 7, Device.CPU, arena);
            return m.logits(Tensor.ofInts(Device.CPU, ids, 1, ids.length)).toFloatArray();
        }
    }

    @Test
    void theLargestConfigRunsAShortSequenceToTheSameLogits() {
        float[] small = logits(config(64), IDS);
        assertArrayEquals(small, logits(config(1 << 25), IDS));
        assertArrayEquals(small, logits(config(Integer.MAX_VALUE), IDS));
    }

    @Test
    void tablesGrowWithTheLongestSequenceAndKeepTheirValues() {
        RopeTables eager = new RopeTables(Arena.ofAuto(), Device.CPU, 8, 1000, 500000);
        RopeTables grown = RopeTables.onDemand(Arena.ofAuto(), Device.CPU, 8, 1000, 500000);
        assertEquals(64, grown.positions(), "a short start");
        grown.ensure(65);
        assertEquals(128, grown.positions(), "then doubling");
        grown.ensure(900);
        assertEquals(900, grown.positions());
        grown.ensure(901);
        assertEquals(1000, grown.positions(), "never past the limit");
        float[] all = eager.cos().toFloatArray();
        assertArrayEquals(all, grown.cos().toFloatArray());
        assertArrayEquals(eager.sin().toFloatArray(), grown.sin().toFloatArray());

        // rope on host positions grows the tables to the furthest one
        RopeTables lazy = RopeTables.onDemand(Arena.ofAuto(), Device.CPU, 8, 1 << 20, 10000);
        Tensor x = Tensor.of(Device.CPU, new float[2 * 16], 2, 16);
        Rope.apply(x, 2, Tensor.ofInts(Device.CPU, new int[] {3, 5000}, 2), lazy);
        assertTrue(lazy.positions() >= 5001 && lazy.positions() < 20000, "grown to " + lazy.positions());
    }

    @Test
    void positionsBeyondTheConfigAreNamedErrors() {
        RopeTables t = RopeTables.onDemand(Arena.ofAuto(), Device.CPU, 8, 100, 10000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.ensure(101));
        assertTrue(e.getMessage().contains("max_position_embeddings 100"), e.getMessage());
        Tensor x = Tensor.of(Device.CPU, new float[16], 1, 16);
        e = assertThrows(
                IllegalArgumentException.class,
                () -> Rope.apply(x, 2, Tensor.ofInts(Device.CPU, new int[] {100}, 1), t));
        assertTrue(e.getMessage().contains("max_position_embeddings"), e.getMessage());
        assertThrows(
                IndexOutOfBoundsException.class,
                () -> Rope.apply(x, 2, Tensor.ofInts(Device.CPU, new int[] {-1}, 1), t));
        // all of 2^31 - 1 positions at once is refused by name, not with a negative array size
        e = assertThrows(
                IllegalArgumentException.class,
                () -> new RopeTables(Arena.ofAuto(), Device.CPU, 128, Integer.MAX_VALUE, 10000));
        assertTrue(e.getMessage().contains("onDemand"), e.getMessage());
        // a sequence longer than the config's positions
        LlamaConfig cfg = config(4);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = LlamaModel.random(cfg, 1, Device.CPU, arena);
            e = assertThrows(
                    IllegalArgumentException.class,
                    () -> m.logits(Tensor.ofInts(Device.CPU, new int[] {1, 2, 3, 4, 5}, 1, 5)));
            assertTrue(e.getMessage().contains("max_position_embeddings 4"), e.getMessage());
        }
    }

    @Test
    void aLayerCountTheWeightsCannotHoldIsRefusedBeforeListingTheirNames() {
        LlamaConfig huge = new LlamaConfig(97, 32, 48, Integer.MAX_VALUE, 4, 2, 1e-5, 10000, 64, false);
        Map<String, Tensor> weights = new HashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel.random(config(64), 1, Device.CPU, arena).namedTensors().forEach(weights::put);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> LlamaModel.of(huge, weights, Device.CPU, arena));
            assertTrue(e.getMessage().contains("num_hidden_layers 2147483647"), e.getMessage());
            assertTrue(e.getMessage().contains("model.layers.2.self_attn.q_proj.weight"), e.getMessage());
        }
        LlamaConfig wide = new LlamaConfig(1 << 30, 64, 48, 1, 4, 2, 1e-5, 10000, 64, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                LlamaModel.random(wide, 1, Device.CPU, arena);
            }
        });
        assertTrue(e.getMessage().contains("model.embed_tokens.weight"), e.getMessage());
    }
}
