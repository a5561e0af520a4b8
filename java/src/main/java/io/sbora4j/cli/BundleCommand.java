package io.sbora4j.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
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
import java.security.CodeSource;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
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
@Command(name = "bundle", description = {
    "Write a folder that runs sbora on a Linux x86-64 machine with no JDK: its own Java runtime, the jars,"
        + " bin/sbora.",
    "Needs a full JDK (jlink). Copy DIR there and run DIR/bin/sbora info."})
final class BundleCommand implements Callable<Integer> {

    /** The modules the command line needs on the class path, without the charting library's {@code java.desktop}. */
    static final List<String> MODULES =
            List.of("java.base", "java.logging", "java.management", "java.xml", "jdk.unsupported");

    /** Class-file packages of test tooling: a class-path jar holding only these is left out. */
    private static final List<String> TEST_TOOLING = List.of("org/junit/", "org/opentest4j/", "org/apiguardian/",
            "net/jqwik/", "org/apache/maven/surefire/", "org/apache/maven/plugin/surefire/");

    private static final String CHARTS = "org/jfree/";
    private static final String NATIVE_DIR = "native/linux-x86_64/";
    private static final double MIB = 1024.0 * 1024.0;

    @Spec
    CommandSpec spec;

    @Option(names = "--output", required = true, paramLabel = "DIR",
            description = "the folder to write; refused when it exists and is not empty, unless --force")
    Path output;

    @Option(names = "--force", description = "replace DIR when it holds an earlier bundle")
    boolean force;

    @Option(names = "--no-charts", description = "leave java.desktop and the charting library out (about 15 MiB"
            + " less; sbora demo then skips its loss chart)")
    boolean noCharts;

    @Option(names = "--small", description = "leave out the class-data-sharing archives (runtime/lib/server/*.jsa:"
            + " about 28 MiB less, slower start-up)")
    boolean small;

    /** One class-path entry to put under lib/: a jar to copy or a folder of classes to jar up. */
    private record AppJar(Path source, String name, boolean jarUp) {}

    /** The entries to put under lib/, and how many were left out (test classes and tooling, charts). */
    private record Plan(List<AppJar> jars, int leftOut) {}

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path target = output.toAbsolutePath().normalize();
        if (target.getFileName() == null || target.getParent() == null) {
            throw new IllegalArgumentException("--output " + output + " is not a folder one can write a bundle to");
        }
        boolean replace = checkTarget(target);
        ToolProvider jlink = ToolProvider.findFirst("jlink").orElseThrow(() -> new IllegalStateException(
                "jlink is not available in this Java runtime (" + System.getProperty("java.home")
                        + "): run sbora bundle on a full JDK, one with the jdk.jlink module"));
        List<String> modules = new ArrayList<>(MODULES);
        if (!noCharts) {
            modules.add("java.desktop");
        }
        Plan plan = applicationJars();

        Path tmp;
        try {
            tmp = Files.createTempDirectory(Files.createDirectories(target.getParent()),
                    "." + target.getFileName() + ".partial-");
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a folder in " + target.getParent() + ": " + e, e);
        }
        Thread cleanup = new Thread(() -> { // Ctrl-C: leave no partial folder behind either
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
            link(jlink, modules, tmp.resolve("runtime"));

            List<String> names = writeJars(plan.jars(), tmp.resolve("lib"));
            out.println("[2/4] application jars: " + describe(plan) + "; native libraries inside: "
                    + String.join(", ", nativeLibraries(tmp.resolve("lib"))));
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
        out.printf(Locale.ROOT, "bundle %s: %.1f MiB (runtime %.1f, lib %.1f); run %s%n", target,
                size(target) / MIB, size(target.resolve("runtime")) / MIB, size(target.resolve("lib")) / MIB,
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
            throw new IllegalArgumentException("--output " + target + " exists and is not empty"
                    + " (--force replaces an earlier bundle)");
        }
        if (!Files.isRegularFile(target.resolve("bin").resolve("sbora"))
                || !Files.isRegularFile(target.resolve("runtime").resolve("release"))) {
            throw new IllegalArgumentException("--output " + target + " is not empty and holds no earlier bundle"
                    + " (no bin/sbora, runtime/release): --force only replaces a bundle");
        }
        return true;
    }

    private void link(ToolProvider jlink, List<String> modules, Path runtime) throws IOException {
        StringWriter log = new StringWriter();
        int rc;
        try (PrintWriter pw = new PrintWriter(log)) {
            rc = jlink.run(pw, pw, "--add-modules", String.join(",", modules), "--strip-debug", "--no-header-files",
                    "--no-man-pages", "--compress=zip-9", "--output", runtime.toString());
        }
        if (rc != 0) {
            throw new IllegalStateException("jlink failed: "
                    + log.toString().lines().filter(l -> !l.isBlank()).findFirst().orElse("exit code " + rc));
        }
        if (!Files.isExecutable(runtime.resolve("bin").resolve("java"))) {
            throw new IllegalStateException("jlink wrote no " + runtime.resolve("bin").resolve("java"));
        }
        if (!small) {
            // what jlink --generate-cds-archive does, without its messages on our standard output
            dumpSharedArchive(runtime, "-Xshare:dump");
            dumpSharedArchive(runtime, "-XX:-UseCompressedOops", "-Xshare:dump");
        } else {
            Path server = runtime.resolve("lib").resolve("server");
            if (Files.isDirectory(server)) {
                try (var jsa = Files.newDirectoryStream(server, "*.jsa")) {
                    for (Path p : jsa) {
                        Files.delete(p);
                    }
                }
            }
        }
    }

    /** Runs the new runtime's java with the options that write a class-data-sharing archive into lib/server/. */
    private static void dumpSharedArchive(Path runtime, String... options) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(runtime.resolve("bin").resolve("java").toString());
        cmd.addAll(List.of(options));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc;
        try {
            rc = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing the class-data-sharing archive");
        }
        if (rc != 0) {
            throw new IllegalStateException("writing the class-data-sharing archive (" + String.join(" ", options)
                    + ") failed: " + log.strip().lines().reduce((a, b) -> b).orElse("exit code " + rc));
        }
    }

    /**
     * The class path's entries to put under lib/: every jar (less test tooling, and less the charting library with
     * --no-charts) and the folder holding this class, jarred up. Other folders (test classes) are left out.
     */
    private Plan applicationJars() throws IOException {
        Path app = codeSource();
        List<AppJar> jars = new ArrayList<>();
        Set<String> taken = new LinkedHashSet<>();
        boolean appFound = false;
        int leftOut = 0;
        for (String e : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            if (e.isBlank()) {
                continue;
            }
            Path p = Path.of(e).toAbsolutePath().normalize();
            String name;
            boolean jarUp;
            if (Files.isDirectory(p)) {
                if (!p.equals(app)) {
                    leftOut++;
                    continue;
                }
                name = "sbora4j.jar"; // the name scripts/run-gpu-checks.sh expects
                jarUp = true;
            } else if (Files.isRegularFile(p) && p.getFileName().toString().endsWith(".jar")) {
                Set<String> folders = contentFolders(p);
                if (folders.isEmpty() // an aggregator (junit-jupiter, jqwik): nothing but metadata
                        || folders.stream().allMatch(BundleCommand::isTestTooling)
                        || noCharts && folders.stream().allMatch(k -> k.startsWith(CHARTS))) {
                    leftOut++;
                    continue;
                }
                name = p.getFileName().toString();
                jarUp = false;
            } else {
                continue; // a missing entry, or something the launcher could not use
            }
            appFound |= p.equals(app);
            name = name.replaceAll("[^A-Za-z0-9._+-]", "_");
            String unique = name;
            for (int i = 2; !taken.add(unique); i++) {
                unique = name.substring(0, name.length() - 4) + "-" + i + ".jar";
            }
            jars.add(new AppJar(p, unique, jarUp));
        }
        if (!appFound) {
            throw new IllegalStateException("the application (" + app + ") is not on the class path ("
                    + System.getProperty("java.class.path") + "): run sbora bundle through ./sbora");
        }
        return new Plan(jars, leftOut);
    }

    private static Path codeSource() {
        CodeSource cs = BundleCommand.class.getProtectionDomain().getCodeSource();
        if (cs == null || cs.getLocation() == null) {
            throw new IllegalStateException("cannot tell where the sbora classes were loaded from");
        }
        try {
            return Path.of(cs.getLocation().toURI()).toAbsolutePath().normalize();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot tell where the sbora classes were loaded from: "
                    + cs.getLocation());
        }
    }

    private static boolean isTestTooling(String pkg) {
        return TEST_TOOLING.stream().anyMatch(pkg::startsWith);
    }

    /** The folders of the jar's files (classes and resources) outside META-INF, each ending in '/' ("" the root). */
    private static Set<String> contentFolders(Path jar) throws IOException {
        Set<String> folders = new TreeSet<>();
        try (JarFile jf = new JarFile(jar.toFile(), false)) {
            for (Enumeration<JarEntry> en = jf.entries(); en.hasMoreElements(); ) {
                String n = en.nextElement().getName();
                if (!n.endsWith("/") && !n.startsWith("META-INF/") && !n.equals("module-info.class")) {
                    folders.add(n.substring(0, n.lastIndexOf('/') + 1));
                }
            }
        }
        return folders;
    }

    private static String describe(Plan plan) {
        List<String> parts = new ArrayList<>();
        for (AppJar j : plan.jars()) {
            parts.add(j.jarUp() ? j.name() + " (from " + j.source() + ")" : j.name());
        }
        return String.join(", ", parts)
                + (plan.leftOut() > 0 ? " (" + plan.leftOut() + " test or chart entries left out)" : "");
    }

    private List<String> writeJars(List<AppJar> jars, Path lib) throws IOException {
        Files.createDirectories(lib);
        List<String> names = new ArrayList<>();
        for (AppJar j : jars) {
            Path dest = lib.resolve(j.name());
            if (j.jarUp()) {
                jarUp(j.source(), dest);
            } else if (noCharts && hasEntries(j.source(), CHARTS)) {
                copyWithout(j.source(), dest, CHARTS); // the shaded jar: the same, less the charting library
            } else {
                Files.copy(j.source(), dest, StandardCopyOption.COPY_ATTRIBUTES);
            }
            names.add(j.name());
        }
        return names;
    }

    private static void jarUp(Path classes, Path dest) throws IOException {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(Attributes.Name.MAIN_CLASS, SboraCli.class.getName());
        mf.getMainAttributes().putValue("Enable-Native-Access", "ALL-UNNAMED");
        List<Path> files;
        try (Stream<Path> s = Files.walk(classes)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(dest), mf)) {
            Set<String> dirs = new LinkedHashSet<>();
            for (Path f : files) {
                String name = classes.relativize(f).toString().replace(File.separatorChar, '/');
                if (name.equals(JarFile.MANIFEST_NAME)) {
                    continue;
                }
                for (int i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
                    String d = name.substring(0, i + 1);
                    if (dirs.add(d)) {
                        jar.putNextEntry(new JarEntry(d));
                        jar.closeEntry();
                    }
                }
                JarEntry e = new JarEntry(name);
                e.setLastModifiedTime(Files.getLastModifiedTime(f));
                jar.putNextEntry(e);
                Files.copy(f, jar);
                jar.closeEntry();
            }
        }
    }

    private static boolean hasEntries(Path jar, String prefix) throws IOException {
        try (JarFile jf = new JarFile(jar.toFile(), false)) {
            return jf.stream().anyMatch(e -> e.getName().startsWith(prefix));
        }
    }

    private static void copyWithout(Path jar, Path dest, String prefix) throws IOException {
        try (JarFile jf = new JarFile(jar.toFile(), false);
             OutputStream os = Files.newOutputStream(dest);
             JarOutputStream jo = new JarOutputStream(os)) {
            for (Enumeration<JarEntry> en = jf.entries(); en.hasMoreElements(); ) {
                JarEntry e = en.nextElement();
                if (e.getName().startsWith(prefix)) {
                    continue;
                }
                JarEntry copy = new JarEntry(e.getName());
                copy.setLastModifiedTime(e.getLastModifiedTime());
                jo.putNextEntry(copy);
                try (InputStream in = jf.getInputStream(e)) {
                    in.transferTo(jo);
                }
                jo.closeEntry();
            }
        }
    }

    /** The native libraries the jars under lib/ carry; fails when libsbora_native.so is not among them. */
    private static List<String> nativeLibraries(Path lib) throws IOException {
        Set<String> found = new TreeSet<>();
        try (Stream<Path> s = Files.list(lib)) {
            for (Path jar : s.toList()) {
                try (JarFile jf = new JarFile(jar.toFile(), false)) {
                    jf.stream().map(JarEntry::getName)
                            .filter(n -> n.startsWith(NATIVE_DIR) && !n.endsWith("/"))
                            .forEach(n -> found.add(n.substring(NATIVE_DIR.length())));
                }
            }
        }
        if (!found.contains("libsbora_native.so")) {
            throw new IllegalStateException("no jar on the class path holds " + NATIVE_DIR
                    + "libsbora_native.so: build the project first (./mvnw -pl java -am package)");
        }
        return List.copyOf(found);
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
        Path old = target.resolveSibling("." + target.getFileName() + ".old-" + ProcessHandle.current().pid());
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
            return s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
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
