package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SboraCliTest {

    private record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = SboraCli.run(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void layerDemoPrintsOneRowPerMethod() {
        Result r = run("layer-demo", "--dim", "32", "--tokens", "16", "--steps", "8", "-r", "4");
        assertEquals(0, r.code(), r.err());
        for (String row : new String[] {"lora r=4", "lora-fa r=4", "dora r=4", "sbora-fa r=4", "sbora-fb r=4",
                "sbora-fa r=8"}) {
            assertTrue(r.out().contains(row), r.out());
        }
        assertTrue(r.out().contains("32 rows x 4 cols"), "SBoRA-FA r=4 changes 4 columns:\n" + r.out());
        assertTrue(r.out().contains("4 rows x 32 cols"), "SBoRA-FB r=4 changes 4 rows:\n" + r.out());
    }

    @Test
    void infoListsTheBackends() {
        Result r = run("info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("cpu: available"), r.out());
        assertTrue(r.out().contains("cuda: unavailable"), r.out());
    }

    @Test
    void badInputIsOneLineAndANonZeroExit() {
        Result r = run("layer-demo", "--device", "tpu");
        assertNotEquals(0, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("unknown device 'tpu'"), r.err());
        Result bad = run("layer-demo", "-r", "0");
        assertNotEquals(0, bad.code());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
    }
}
