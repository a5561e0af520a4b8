package io.sbora4j.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The {@code mpirun} on the PATH, for tests that start real MPI jobs of JVMs on this machine: loopback only, two or
 * more ranks of a main class on the test's own class path. Without an {@code mpirun} the calling test is skipped
 * (CI installs {@code openmpi-bin}).
 */
public final class Mpirun {

    private final Path path;
    private final boolean openMpi;

    private Mpirun(Path path, boolean openMpi) {
        this.path = path;
        this.openMpi = openMpi;
    }

    /** The {@code mpirun} on the PATH; skips the calling test when there is none. */
    public static Mpirun findOrSkip() throws IOException, InterruptedException {
        Optional<Path> found = Stream.of(
                        System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(d -> !d.isBlank())
                .map(d -> Path.of(d, "mpirun"))
                .filter(Files::isExecutable)
                .findFirst();
        assumeTrue(found.isPresent(), "no mpirun on the PATH: the MPI job tests skip (install openmpi-bin)");
        Process p = new ProcessBuilder(found.get().toString(), "--version")
                .redirectErrorStream(true)
                .start();
        String version = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "mpirun --version hangs");
        return new Mpirun(found.get(), version.contains("Open MPI") || version.contains("OpenRTE"));
    }

    /**
     * {@code mpirun -np ranks} of {@code java jvmOptions -cp <this class path> mainClass args}, not started, its
     * output and errors to {@code dir/name.out} and {@code dir/name.err}.
     */
    public ProcessBuilder job(
            int ranks, Path dir, String name, List<String> jvmOptions, String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(path.toString(), "-np", Integer.toString(ranks)));
        if (openMpi) {
            // loopback only: shared memory between the ranks, without cross-memory attach (which containers that
            // forbid ptrace refuse), and no binding to cores the machine may not have
            cmd.addAll(List.of(
                    "--oversubscribe",
                    "--bind-to",
                    "none",
                    "--mca",
                    "btl",
                    "self,vader",
                    "--mca",
                    "btl_vader_single_copy_mechanism",
                    "none"));
        }
        cmd.addAll(ChildJvm.command(jvmOptions, mainClass, args));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile());
        Map<String, String> env = pb.environment();
        // a test JVM that is itself a rank of some job must not hand that job to the mpirun it starts
        env.keySet().removeIf(k -> k.startsWith("OMPI_") || k.startsWith("PMIX_") || k.startsWith("PMI_"));
        env.put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        env.put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        return pb;
    }

    /** The command line, with the class path shortened, for a test's log. */
    public static String describe(ProcessBuilder pb) {
        return String.join(" ", pb.command()).replace(System.getProperty("java.class.path"), "<the test class path>");
    }
}
