package io.sbora4j.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sbora4j.backend.Backends;

/**
 * Whether a cuda-tagged test runs, skips or fails. Without a usable cuda backend (no GPU, no emulated device) the test
 * skips, except where the build promised a device: the surefire executions that run these tests on the CPU-emulated
 * device (cuda-kernels/README.md, "Emulated tests") set {@value #REQUIRED}, and there a missing backend (the
 * emulator's library not built, or not loading) fails the test, so that the emulated run cannot quietly become a run
 * of skips. {@code -Dsbora.cuda.emu=OFF} builds no emulator and clears the property.
 */
public final class CudaAvailability {

    /** System property: {@code true} where the cuda backend must be usable. */
    public static final String REQUIRED = "sbora.cuda.required";

    private CudaAvailability() {}

    /** Skips the calling test without a usable cuda backend, or fails it where one is required. */
    public static void assumeUsable() {
        var reason = Backends.unavailableReason("cuda");
        if (reason.isPresent() && required()) {
            fail("the cuda backend is required here (" + REQUIRED + "=true: this run is meant for the emulated "
                    + "device) but is unusable: " + reason.get()
                    + " (build it with java/cuda, or pass -Dsbora.cuda.emu=OFF to build without the emulator)");
        }
        assumeTrue(reason.isEmpty(), () -> "no usable CUDA here: " + reason.orElse(""));
    }

    /** Whether {@value #REQUIRED} is set to {@code true}. */
    public static boolean required() {
        return Boolean.getBoolean(REQUIRED);
    }
}
