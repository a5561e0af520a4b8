package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.peft.AdapterConfig;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A name or value a file holds never breaks an error into lines: control characters are shown escaped (found by
 * {@link SafetensorsFuzz} and {@link AdapterFilesFuzz}: a tensor named "\n", a config key "\n" gave two-line
 * messages).
 */
class OneLineMessagesTest {

    @TempDir
    Path dir;

    @Test
    void controlCharactersInAHeaderAreEscaped() throws Exception {
        Path p = Crafted.file(
                dir, "f.safetensors", "{\"a\\nb\":{\"dtype\":\"\\n\\u0000\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFormatException e =
                    assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(p, a));
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            assertTrue(e.getMessage().contains("'a\\nb'") && e.getMessage().contains("\\n\\u0000"), e.getMessage());
        }
        // and in an adapter config (found by AdapterFilesFuzz: an unknown key "\n")
        IllegalArgumentException c = assertThrows(
                IllegalArgumentException.class,
                () -> AdapterConfig.fromJson("{\"method\": \"lora\", \"r\": 2, \"alpha\": 4, \"\\n\": 1}"));
        assertEquals(1, c.getMessage().lines().count(), c.getMessage());
        assertTrue(c.getMessage().contains("\\n"), c.getMessage());
        assertEquals("plain", SafetensorsFormatException.oneLine("plain"));
        assertEquals("x\\r\\ty\\u2028", SafetensorsFormatException.oneLine("x\r\ty\u2028"));
    }
}
