package io.sbora4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sbora bundle}: writes a self-contained folder that runs the {@code sbora} command line on a Linux x86-64
 * machine with no JDK installed (an HPC node, the GPU machine).
 *
 * <pre>
 *   OUT/runtime/     a Java runtime made by jlink (only the modules the command line needs; no javac, no jlink)
 *   OUT/lib/         the application jars: the jars of this JVM's class path (the one shaded jar when run through
 *                    ./sbora), the compiled classes jarred up when run from target/classes; the native libraries
 *                    travel inside them under native/linux-x86_64/, as in every other run
 *   OUT/bin/sbora    a POSIX sh launcher: OUT/runtime/bin/java, the flags ./sbora uses, the CLI's main class
 *   OUT/README.txt   what it is, how to run it, what it was built from
 * </pre>
 *
 * <p>The folder is assembled in a hidden sibling and renamed into place at the end, so a failed run leaves nothing
 * half-written. It needs a full JDK (the {@code jdk.jlink} module) and links the runtime from the JDK it runs on.
 * {@code --no-charts} leaves {@code java.desktop} and the charting library out (about 15 MiB less; only the
 * {@code loss_curves.png} of {@code sbora demo} needs them); {@code --small} leaves out the class-data-sharing
 * archives that make start-up faster (about 28 MiB).
 */
@Command(
        name = "bundle",
        description = {
            "Write a folder that runs sbora on a Linux x86-64 machine with no JDK: its own Java runtime, the jars,"
                    + " bin/sbora.",
            "Needs a full JDK (jlink). Copy DIR there and run DIR/bin/sbora info."
        })
final class BundleCommand implements Callable<Integer> {

    /** The modules the command line needs on the class path, without the charting library's {@code java.desktop}. */
    static final List<String> MODULES =
            List.of("java.base", "java.logging", "java.management", "java.xml", "jdk.httpserver", "jdk.unsupported");

    private static final double MIB = 1024.0 * 1024.0;

    @Spec
    CommandSpec spec;

    @Option(
            names = "--output",
            required = true,
            paramLabel = "DIR",
            description = "the folder to write; refused when it exists and is not empty, unless --force")
    Path output;

    @Option(names = "--force", description = "replace DIR when it holds an earlier bundle")
    boolean force;

    @Option(
            names = "--no-charts",
            description = "leave java.desktop and the charting library out (about 15 MiB"
                    + " less; sbora demo then skips its loss chart)")
    boolean noCharts;

    @Option(
            names = "--small",
            description = "leave out the class-data-sharing archives (runtime/lib/server/*.jsa:"
                    + " about 28 MiB less, slower start-up)")
    boolean small;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path target = output.toAbsolutePath().normalize();
        if (target.getFileName() == null || target.getParent() == null) {
            throw new IllegalArgumentException("--output " + output + " is not a folder one can write a bundle to");
        }
        boolean replace = checkTarget(target);
        ToolProvider jlink = ToolProvider.findFirst("jlink")
                .orElseThrow(() -> new IllegalStateException(
                        "jlink is not available in this Java runtime (" + System.getProperty("java.home")
                                + "): run sbora bundle on a full JDK, one with the jdk.jlink module"));
        List<String> modules = new ArrayList<>(MODULES);
        if (!noCharts) {
            modules.add("java.desktop");
        }
        BundleJars.Plan plan = BundleJars.applicationJars(noCharts);

        Path tmp;
        try {
            tmp = Files.createTempDirectory(
                    Files.createDirectories(target.getParent()), "." + target.getFileName() + ".partial-");
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a folder in " + target.getParent() + ": " + e, e);
        }
        Thread cleanup = new Thread(
                () -> { // Ctrl-C: leave no partial folder behind either
                    try {
                        deleteTree(tmp);
                    } catch (IOException | RuntimeException ignored) {
                        // the process is ending; nothing more to do
                    }
                });
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            out.println("[1/4] linking a Java runtime with jlink: " + String.join(",", modules)
                    + (small ? "" : " (with class-data-sharing archives)"));
            out.flush();
            BundleRuntime.link(jlink, modules, tmp.resolve("runtime"), small);

            List<String> names = BundleJars.writeJars(plan.jars(), tmp.resolve("lib"), noCharts);
            out.println("[2/4] application jars: " + BundleJars.describe(plan) + "; native libraries inside: "
                    + String.join(", ", BundleJars.nativeLibraries(tmp.resolve("lib"))));
            out.flush();

            out.println("[3/4] launcher bin/sbora and README.txt");
            writeLauncher(tmp.resolve("bin").resolve("sbora"), names);
            writeReadme(tmp.resolve("README.txt"), modules);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));

            out.println("[4/4] moving into place: " + target);
            out.flush();
            moveIntoPlace(tmp, target, replace);
        } catch (IOException | RuntimeException | Error e) {
            try {
                deleteTree(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran) anyway
            }
        }
        out.printf(
                Locale.ROOT,
                "bundle %s: %.1f MiB (runtime %.1f, lib %.1f); run %s%n",
                target,
                size(target) / MIB,
                size(target.resolve("runtime")) / MIB,
                size(target.resolve("lib")) / MIB,
                target.resolve("bin").resolve("sbora") + " info");
        out.flush();
        return 0;
    }

    /** Refuses a target that exists and is not empty (unless --force and it is an earlier bundle); true: replace it. */
    private boolean checkTarget(Path target) throws IOException {
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("--output " + target + " exists and is not a folder");
        }
        boolean empty;
        try (Stream<Path> s = Files.list(target)) {
            empty = s.findAny().isEmpty();
        }
        if (empty) {
            return true;
        }
        if (!force) {
            throw new IllegalArgumentException(
                    "--output " + target + " exists and is not empty" + " (--force replaces an earlier bundle)");
        }
        if (!Files.isRegularFile(target.resolve("bin").resolve("sbora"))
                || !Files.isRegularFile(target.resolve("runtime").resolve("release"))) {
            throw new IllegalArgumentException("--output " + target + " is not empty and holds no earlier bundle"
                    + " (no bin/sbora, runtime/release): --force only replaces a bundle");
        }
        return true;
    }

    private static void writeLauncher(Path file, List<String> jars) throws IOException {
        StringBuilder cp = new StringBuilder();
        for (String j : jars) {
            cp.append(cp.isEmpty() ? "" : ":").append("$root/lib/").append(j);
        }
        String script = """
                #!/bin/sh
                # sbora on the Java runtime next to it: no JDK needed. Written by `sbora bundle`.
                # Extra JVM options (e.g. -Xmx16g) go in SBORA_JAVA_OPTS.
                set -e
                self=$0
                while [ -h "$self" ]; do   # follow symbolic links to this script (e.g. from a bin/ on the PATH)
                  link=$(ls -ld -- "$self")
                  link=${link#*' -> '}
                  case $link in
                    /*) self=$link ;;
                    *) self=$(dirname -- "$self")/$link ;;
                  esac
                done
                root=$(cd -- "$(dirname -- "$self")/.." && pwd -P)
                # shellcheck disable=SC2086
                exec "$root/runtime/bin/java" --enable-native-access=ALL-UNNAMED ${SBORA_JAVA_OPTS:-} \\
                  -cp "%s" %s "$@"
                """.formatted(cp, SboraCli.class.getName());
        Files.createDirectories(file.getParent());
        Files.writeString(file, script, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private void writeReadme(Path file, List<String> modules) throws IOException {
        String version = new VersionProvider().getVersion()[0];
        String text = version + ": the sbora command line with its own Java runtime; needs no JDK (Linux x86-64).\n"
                + "Run: bin/sbora info   (bin/sbora --help lists the commands; JVM options go in SBORA_JAVA_OPTS)\n"
                + "Built " + LocalDate.now() + " by `sbora bundle` from " + version + " on Java " + Runtime.version()
                + " (modules " + String.join(",", modules) + (noCharts ? "; no charts" : "")
                + (small ? "; --small" : "") + ").\n";
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** Renames the finished folder into place; an earlier one (--force, or an empty folder) is replaced. */
    private static void moveIntoPlace(Path tmp, Path target, boolean replace) throws IOException {
        if (!replace) {
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                throw new IllegalStateException("--output " + target + " appeared while the bundle was written");
            }
            return;
        }
        Path old = target.resolveSibling(
                "." + target.getFileName() + ".old-" + ProcessHandle.current().pid());
        deleteTree(old);
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
            throw e;
        }
        deleteTree(old);
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .mapToLong(p -> {
                        try {
                            return Files.size(p);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    })
                    .sum();
        }
    }

    /** Deletes a folder and everything in it, without following symbolic links; nothing when it does not exist. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
