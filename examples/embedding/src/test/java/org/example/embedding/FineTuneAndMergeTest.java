package org.example.embedding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FineTuneAndMergeTest {

    @Test
    void fineTunesTheApplicationsOwnNetworkAndMergesIt() {
        FineTuneAndMerge.Outcome o = FineTuneAndMerge.run(150);
        assertTrue(o.lossAfter() < 0.5 * o.lossBefore(), o.toString());
        assertTrue(o.mergedMaxDifference() < 1e-4, o.toString());
        // SBoRA-FA trains out x r per layer: 96·16 + 96·16 + 32·16
        assertEquals(96 * 16 + 96 * 16 + 32 * 16, o.trainable());
        assertEquals(List.of("default", "lora"), o.adapters());
    }

    /**
     * The same program as JPMS modules: this example, io.sbora4j and io.sbora4j.cpu (bound as the provider of the
     * backend service) and Jackson on the module path; OpenBLAS's jar, whose module descriptor names a module that is
     * never used, stays on the class path, from where the cpu backend reads its libraries.
     */
    @Test
    void runsOnTheModulePath() throws Exception {
        List<String> modulePath = new ArrayList<>(), classPath = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = Path.of(e).getFileName().toString();
            if (name.startsWith("openblas")) {
                classPath.add(e);
            } else if (!name.equals("test-classes")
                    && !name.startsWith("junit")
                    && !name.startsWith("opentest4j")
                    && !name.startsWith("apiguardian")
                    && !name.endsWith("-tests.jar")) {
                modulePath.add(e);
            }
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(
                        java.toString(),
                        "--enable-native-access=io.sbora4j,io.sbora4j.cpu",
                        "--module-path",
                        String.join(File.pathSeparator, modulePath),
                        "--class-path",
                        String.join(File.pathSeparator, classPath),
                        "--module",
                        "org.example.embedding/org.example.embedding.FineTuneAndMerge")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("merged vs adapted"), out);
    }
}
