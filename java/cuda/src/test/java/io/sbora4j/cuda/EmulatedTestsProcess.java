package io.sbora4j.cuda;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code sbc_emu_tests} (cuda-kernels/emu/, built by CMake in java/cuda's build) or one of its mutants as a process.
 * Where the binaries are required ({@code sbora.cuda.emu.required}, set by this module's surefire configuration unless
 * {@code -Dsbora.cuda.emu=OFF}) a missing one fails the test; elsewhere it skips it.
 */
final class EmulatedTestsProcess {

    private static final long TIMEOUT_MINUTES = 5;

    private EmulatedTestsProcess() {}

    /** What a run printed (stdout and stderr together) and how it exited. */
    record Result(List<String> command, int exitValue, String output) {

        /** The FAIL lines of the failed checks. */
        List<String> failed() {
            return output.lines().filter(l -> l.startsWith("FAIL")).toList();
        }
    }

    static boolean required() {
        return Boolean.getBoolean("sbora.cuda.emu.required");
    }

    /** Fails (where required) or skips the calling test unless {@code file} exists; {@code what} says what it is. */
    static void requireFile(Path file, boolean executable, String what) {
        boolean present = executable ? Files.isExecutable(file) : Files.isRegularFile(file);
        String reason = "not built: " + what + " (" + file + "); CMake builds it when it finds a C++17 compiler "
                + "and python3, unless -Dsbora.cuda.emu=OFF";
        if (!present && required()) {
            fail(reason + "; this build requires it (sbora.cuda.emu.required=true)");
        }
        assumeTrue(present, reason);
    }

    static Result run(List<String> command) throws IOException, InterruptedException {
        Path log = Files.createTempFile("sbc_emu_tests", ".log");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly().waitFor();
                fail(command + " did not finish in " + TIMEOUT_MINUTES + " minutes:\n" + Files.readString(log));
            }
            return new Result(command, process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
