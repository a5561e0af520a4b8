package io.sbora4j.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AdapterConfigTest {

    @Test
    void roundTripsThroughJson() {
        AdapterConfig cfg = AdapterConfig.of(AdapterMethods.SBORA_FB, 16, 32)
                .withDropout(0.05)
                .withSeed(1234)
                .withTargets(List.of("q_proj", "v_proj"))
                .withInit(AdapterConfig.Init.GAUSSIAN)
                .withIndices("model.layers.0.self_attn.q_proj", 5, 1, 9);
        String json = cfg.toJson();
        assertTrue(json.contains("\"method\" : \"sbora-fb\""), json);
        assertTrue(json.contains("\"target_modules\""), json);
        assertEquals(cfg, AdapterConfig.fromJson(json));
    }

    @Test
    void defaultsTargetEveryLlamaProjection() {
        AdapterConfig cfg = AdapterConfig.fromJson("{\"method\":\"lora\",\"r\":8,\"alpha\":16}");
        assertEquals(AdapterConfig.LLAMA_TARGETS, cfg.targetModules());
        assertEquals(2f, cfg.scaling());
        assertTrue(cfg.targets("model.layers.7.mlp.down_proj"));
        assertTrue(!cfg.targets("lm_head"));
    }

    @Test
    void invalidJsonSaysWhatIsWrong() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> AdapterConfig.fromJson("{\"method\":\"sbora-fa\",\"r\":0,\"alpha\":1}"));
        assertTrue(e.getMessage().contains("r must be >= 1"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> AdapterConfig.fromJson("{\"method\":\"lora\",\"r\":2,\"alpha\":1,\"rank\":3}"));
        assertTrue(e.getMessage().contains("rank"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AdapterConfig.fromJson("{\"method\":\"xlora\"}"));
        assertTrue(e.getMessage().contains("xlora"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AdapterConfig.fromJson("not json"));
    }

    @Test
    void nullForANumberIsRefusedNotReadAsZero() {
        for (String json : new String[] {
            "{\"method\":\"lora\",\"r\":8,\"alpha\":null}",
            "{\"method\":\"lora\",\"r\":null,\"alpha\":16}",
            "{\"method\":\"lora\",\"r\":8,\"alpha\":16,\"dropout\":null}",
            "{\"method\":\"lora\",\"r\":8,\"alpha\":16,\"seed\":null}"
        }) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> AdapterConfig.fromJson(json), json);
            assertTrue(e.getMessage().contains("null") && !e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
