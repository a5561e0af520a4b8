package io.sbora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The emulated CUDA tests catch the bugs they are there for (cuda-kernels/README.md, "Emulated tests"): CMake builds
 * {@code sbc_emu_tests} again with one bug planted in one kernel (cuda-kernels/emu/emulate.py's mutants: an atomicAdd
 * made a plain read-modify-write, a __syncthreads removed, a block reading what another block of the same launch
 * writes, and two races that only the emulator's race checker sees: a __syncwarp removed between lanes reading a
 * shared staging tile and rewriting it, and an atomicAdd made a plain {@code +=} that the emulator runs without a
 * switch), lists them in {@code cuda-emu/mutants/mutants.txt}, and each must fail the check named there. The unmutated
 * build passing is {@link CudaKernelsEmulatedTest}'s job. Missing binaries fail the test, or skip it with
 * {@code -Dsbora.cuda.emu=OFF}.
 */
class CudaEmulatorMutantsTest {

    /**
     * The kinds of bug the emulator must catch: a lost atomic update, a missing barrier, a block-order dependence, a
     * shared-memory race inside a warp and a global-memory race between blocks (the last two by its race checker).
     */
    private static final Set<String> REQUIRED = Set.of(
            "atomic_as_plain_add",
            "no_barrier",
            "cross_block_read",
            "shared_race_no_syncwarp",
            "global_race_plain_add");

    /** One line of the manifest: name|binary|groups|a regular expression some FAIL line must match. */
    private record Mutant(String name, Path binary, List<String> groups, Pattern expect) {}

    private static Path manifest() {
        String path = System.getProperty("sbora.cuda.emu.mutants");
        if (path != null) return Path.of(path);
        return Path.of(
                System.getProperty("sbora.root", "../.."),
                "java",
                "cuda",
                "target",
                "cmake",
                "cuda-emu",
                "mutants",
                "mutants.txt");
    }

    private static List<Mutant> mutants() throws IOException {
        Path m = manifest();
        EmulatedTestsProcess.requireFile(m, false, "the mutants of the emulated CUDA tests");
        List<Mutant> out = new ArrayList<>();
        for (String line : Files.readAllLines(m)) {
            if (line.isBlank()) continue;
            String[] f = line.split("\\|", 4);
            assertTrue(f.length == 4, "malformed line in " + m + ": " + line);
            out.add(new Mutant(f[0], Path.of(f[1]), List.of(f[2].trim().split("\\s+")), Pattern.compile(f[3])));
        }
        return out;
    }

    @Test
    void eachKindOfBugIsPlanted() throws IOException {
        Set<String> names = mutants().stream().map(Mutant::name).collect(Collectors.toSet());
        assertTrue(names.containsAll(REQUIRED), "mutants built: " + names + ", required: " + REQUIRED);
    }

    @TestFactory
    Stream<DynamicTest> theEmulatedTestsFailOnEveryMutant() throws IOException {
        return mutants().stream()
                .map(m -> dynamicTest(m.name(), () -> {
                    EmulatedTestsProcess.requireFile(m.binary(), true, "the mutant " + m.name());
                    List<String> command = new ArrayList<>(List.of(m.binary().toString(), "-x"));
                    command.addAll(m.groups());
                    EmulatedTestsProcess.Result r = EmulatedTestsProcess.run(command);
                    assertNotEquals(
                            0,
                            r.exitValue(),
                            () -> "the emulated tests passed with the mutant " + m.name()
                                    + ": they did not catch its bug\n" + r.output());
                    assertTrue(
                            r.failed().stream()
                                    .anyMatch(l -> m.expect().matcher(l).find()),
                            () -> "the mutant " + m.name() + " made " + r.command() + " exit with " + r.exitValue()
                                    + ", but no FAIL line matches " + m.expect() + " (a crash is not a caught bug)\n"
                                    + r.output());
                }));
    }
}
