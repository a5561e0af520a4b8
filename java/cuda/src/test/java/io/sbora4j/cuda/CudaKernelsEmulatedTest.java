package io.sbora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CUDA kernels emulated on the CPU (cuda-kernels/README.md, "Emulated tests"): CMake builds
 * {@code cuda-emu/sbc_emu_tests} from cuda-kernels/src with g++ (no nvcc, no GPU), and it checks every launcher against
 * the C kernels (the bf16 fused GEMMs on both their tensor-core and SIMT forms), the blocks of each launch in a random
 * order whose seed the output names. This runs it as a process and fails with its output when any check fails. When
 * the binary was not built (no C++ compiler or python3) the test fails, or skips with {@code -Dsbora.cuda.emu=OFF}.
 */
class CudaKernelsEmulatedTest {

    @Test
    void everyLauncherAgreesWithTheCpuKernels() throws Exception {
        Path bin = binary();
        EmulatedTestsProcess.requireFile(bin, true, "the emulated CUDA tests");
        EmulatedTestsProcess.Result r = EmulatedTestsProcess.run(List.of(bin.toString()));
        List<String> failed = r.failed();
        assertEquals(
                0,
                r.exitValue(),
                () -> r.command() + " exited with " + r.exitValue()
                        + (failed.isEmpty() ? "" : "; failed:\n" + String.join("\n", failed))
                        + "\n---- full output ----\n" + r.output());
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
}
