package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SboraCliTest {

    private static CliEndToEndTest.Result run(String... args) {
        return CliEndToEndTest.run(args);
    }

    @Test
    void layerDemoPrintsOneRowPerMethod() {
        CliEndToEndTest.Result r = run("layer-demo", "--dim", "32", "--tokens", "16", "--steps", "8", "-r", "4");
        assertEquals(0, r.code(), r.err());
        for (String row :
                new String[] {"lora r=4", "lora-fa r=4", "dora r=4", "sbora-fa r=4", "sbora-fb r=4", "sbora-fa r=8"}) {
            assertTrue(r.out().contains(row), r.out());
        }
        assertTrue(r.out().contains("32 rows x 4 cols"), "SBoRA-FA r=4 changes 4 columns:\n" + r.out());
        assertTrue(r.out().contains("4 rows x 32 cols"), "SBoRA-FB r=4 changes 4 rows:\n" + r.out());
    }

    @Test
    void infoListsTheBackends() {
        CliEndToEndTest.Result r = run("info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("cpu: available"), r.out());
        assertTrue(r.out().contains("cuda: unavailable"), r.out());
    }

    @Test
    void badInputIsOneLineAndANonZeroExit() {
        CliEndToEndTest.Result r = run("layer-demo", "--device", "tpu");
        assertNotEquals(0, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("unknown device 'tpu'"), r.err());
        CliEndToEndTest.Result bad = run("layer-demo", "-r", "0");
        assertNotEquals(0, bad.code());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
    }

    @Test
    void everyCommandTakesHelp() {
        for (String cmd : new String[] {
            "demo", "finetune", "eval", "generate", "merge", "export", "forward", "layer-demo", "info", "bundle"
        }) {
            CliEndToEndTest.Result r = run(cmd, "--help");
            assertEquals(0, r.code(), cmd + ": " + r.err());
            assertTrue(r.out().contains("Usage: sbora " + cmd), cmd + ":\n" + r.out());
        }
    }
}
