package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sbora bundle}: bundles (--small, to be quick) are built from the test class path, then run as separate
 * processes with nothing but their own runtime.
 */
class BundleCommandTest {

    @TempDir
    static Path tmp;

    private static Path bundle;
    private static CliEndToEndTest.Result made;

    @BeforeAll
    static void build() {
        assumeTrue(ToolProvider.findFirst("jlink").isPresent(), "needs a JDK with jlink");
        bundle = tmp.resolve("bundle");
        made = CliEndToEndTest.run("bundle", "--output", bundle.toString(), "--small");
        System.out.print(made.out()); // the progress lines, for the test report
        assertEquals(0, made.code(), made.err() + made.out());
    }

    private static Process start(Path launcher, Path cache, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(launcher.toString()).redirectErrorStream(true);
        pb.command().addAll(List.of(args));
        pb.environment().remove("JAVA_HOME");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.environment().put("SBORA_CACHE_DIR", cache.toString());
        return pb.start();
    }

    /** Runs {@code bin/sbora info} through a symbolic link in another folder (as from a bin/ on the PATH). */
    private static String info(Path bundle, Path cache) throws IOException, InterruptedException {
        Path links = Files.createDirectories(tmp.resolve("links-" + bundle.getFileName()));
        Path link = Files.createSymbolicLink(
                links.resolve("sbora"), bundle.resolve("bin").resolve("sbora"));
        Process p = start(link, cache, "info");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains(new VersionProvider().getVersion()[0] + " on Java "), out);
        assertTrue(out.contains("default device:"), out);
        assertTrue(out.contains("cpu: available"), out);
        return out;
    }

    @Test
    void theBundleRunsInfoOnItsOwnRuntime() throws Exception {
        Path cache = tmp.resolve("cache");
        String out = info(bundle, cache);
        // the native kernels came out of the bundle's jars (from target/classes they are used where they lie)
        assertTrue(out.contains("sbora_native: " + cache), out);
    }

    @Test
    void theBundleCannotBundleForWantOfJlink() throws Exception {
        Path again = tmp.resolve("again");
        Process p = start(
                bundle.resolve("bin").resolve("sbora"), tmp.resolve("cache"), "bundle", "--output", again.toString());
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertNotEquals(0, p.exitValue(), out);
        assertEquals(1, out.strip().lines().count(), out);
        assertTrue(out.contains("jlink is not available"), out);
        assertFalse(Files.exists(again));
    }

    @Test
    void theBundleHoldsARuntimeWithoutJdkTools() throws IOException {
        Path runtime = bundle.resolve("runtime");
        assertTrue(Files.isExecutable(runtime.resolve("bin").resolve("java")));
        for (String tool : List.of("javac", "jlink", "jar", "jshell", "jdeps")) {
            assertFalse(Files.exists(runtime.resolve("bin").resolve(tool)), tool);
        }
        String modules = modules(bundle);
        assertFalse(modules.contains("jdk.compiler"), modules);
        assertFalse(modules.contains("jdk.jlink"), modules);
        assertTrue(modules.contains("java.desktop"), "charts are in by default: " + modules);
        try (Stream<Path> s = Files.list(runtime.resolve("lib").resolve("server"))) {
            assertTrue(s.noneMatch(f -> f.toString().endsWith(".jsa")), "--small leaves the CDS archives out");
        }
        assertEquals(3, Files.readAllLines(bundle.resolve("README.txt")).size());
        assertTrue(Files.isExecutable(bundle.resolve("bin").resolve("sbora")));
    }

    private static String modules(Path bundle) throws IOException {
        return Files.readAllLines(bundle.resolve("runtime").resolve("release")).stream()
                .filter(l -> l.startsWith("MODULES="))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void theJarsCarryTheNativeLibrariesAndNoTestCode() throws IOException {
        boolean nativeKernels = false;
        try (Stream<Path> s = Files.list(bundle.resolve("lib"))) {
            for (Path jar : s.toList()) {
                String name = jar.getFileName().toString();
                assertFalse(
                        name.startsWith("junit-") || name.startsWith("jqwik-") || name.startsWith("surefire"), name);
                try (JarFile jf = new JarFile(jar.toFile())) {
                    nativeKernels |= jf.getEntry("native/linux-x86_64/libsbora_native.so") != null;
                    assertTrue(
                            jf.stream()
                                    .noneMatch(e -> e.getName().startsWith("org/junit/")
                                            || e.getName().startsWith("net/jqwik/")
                                            || e.getName().equals("io/sbora4j/cli/BundleCommandTest.class")),
                            name);
                }
            }
        }
        assertTrue(nativeKernels, "no jar under lib/ holds libsbora_native.so");
        assertTrue(made.out().contains("MiB"), made.out());
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(f -> f.getFileName().toString().contains(".partial-")), "a partial folder is left");
        }
    }

    @Test
    void withoutChartsTheBundleHasNoDesktopModuleAndStillRuns() throws Exception {
        Path plain = tmp.resolve("no-charts");
        CliEndToEndTest.Result r =
                CliEndToEndTest.run("bundle", "--output", plain.toString(), "--small", "--no-charts");
        assertEquals(0, r.code(), r.err() + r.out());
        assertFalse(modules(plain).contains("java.desktop"), modules(plain));
        try (Stream<Path> s = Files.list(plain.resolve("lib"))) {
            assertTrue(s.noneMatch(j -> j.getFileName().toString().startsWith("jfreechart")), "the chart jar is in");
        }
        info(plain, tmp.resolve("cache"));
    }

    @Test
    void aFolderThatIsNotEmptyIsRefusedAndLeftAlone() throws IOException {
        Path taken = Files.createDirectories(tmp.resolve("taken"));
        Files.writeString(taken.resolve("keep.txt"), "mine");
        for (String[] args : List.of(
                new String[] {"bundle", "--output", taken.toString()},
                new String[] {"bundle", "--output", taken.toString(), "--force"})) {
            CliEndToEndTest.Result r = CliEndToEndTest.run(args);
            assertNotEquals(0, r.code(), r.out());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains("not empty"), r.err());
            try (Stream<Path> s = Files.list(taken)) {
                assertEquals(List.of(taken.resolve("keep.txt")), s.toList());
            }
            assertEquals("mine", Files.readString(taken.resolve("keep.txt")));
            try (Stream<Path> s = Files.list(tmp)) {
                assertTrue(s.noneMatch(f -> f.getFileName().toString().startsWith(".taken")), "something was written");
            }
        }
    }
}
