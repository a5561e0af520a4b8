package io.sbora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The CUDA kernels emulated on the CPU (cuda-kernels/README.md, "Emulated tests"): CMake builds
 * {@code cuda-emu/sbc_emu_tests} from cuda-kernels/src with g++ (no nvcc, no GPU), and it checks every launcher against
 * the C kernels (the bf16 fused GEMMs on both their tensor-core and SIMT forms). This runs it as a process and fails
 * with its output when any check fails. Skipped when the binary was not built (no C++ compiler or python3, or
 * {@code -Dsbora.cuda.emu=OFF}).
 */
class CudaKernelsEmulatedTest {

    private static final long TIMEOUT_MINUTES = 5;

    @Test
    void everyLauncherAgreesWithTheCpuKernels() throws Exception {
        run();
    }

    private static Path binary() {
        String path = System.getProperty("sbora.cuda.emu.tests");
        if (path != null) return Path.of(path);
        return Path.of(
                System.getProperty("sbora.root", "../.."),
                "java",
                "cuda",
                "target",
                "cmake",
                "cuda-emu",
                "sbc_emu_tests");
    }

    private static void run(String... groups) throws IOException, InterruptedException {
        Path bin = binary();
        assumeTrue(
                Files.isExecutable(bin),
                () -> "the emulated CUDA tests were not built (no " + bin + "): CMake "
                        + "builds them when it finds a C++17 compiler and python3, unless -Dsbora.cuda.emu=OFF");
        List<String> command = new ArrayList<>(List.of(bin.toString()));
        command.addAll(List.of(groups));
        Path log = Files.createTempFile("sbc_emu_tests", ".log");
        try {
            ProcessBuilder pb =
                    new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            Process process = pb.start();
            boolean finished = process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
            if (!finished) {
                process.destroyForcibly().waitFor();
                fail(command + " did not finish in " + TIMEOUT_MINUTES + " minutes:\n" + Files.readString(log));
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            String failed = output.lines().filter(l -> l.startsWith("FAIL")).collect(Collectors.joining("\n"));
            assertEquals(
                    0,
                    process.exitValue(),
                    () -> command + " exited with " + process.exitValue()
                            + (failed.isEmpty() ? "" : "; failed:\n" + failed) + "\n---- full output ----\n" + output);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
