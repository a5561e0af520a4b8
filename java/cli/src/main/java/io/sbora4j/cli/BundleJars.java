package io.sbora4j.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The application jars of a bundle: chosen from this JVM's class path (test tooling left out, and the charting
 * library on request), copied or jarred up under lib/, and checked to carry the native libraries.
 */
final class BundleJars {

    private BundleJars() {}

    /** Class-file packages of test tooling: a class-path jar holding only these is left out. */
    private static final List<String> TEST_TOOLING = List.of(
            "org/junit/",
            "org/opentest4j/",
            "org/apiguardian/",
            "net/jqwik/",
            "org/apache/maven/surefire/",
            "org/apache/maven/plugin/surefire/");

    private static final String CHARTS = "org/jfree/";
    private static final String NATIVE_DIR = "native/linux-x86_64/";

    /** One class-path entry to put under lib/: a jar to copy or a folder of classes to jar up. */
    record AppJar(Path source, String name, boolean jarUp) {}

    /** The entries to put under lib/, and how many were left out (test classes and tooling, charts). */
    record Plan(List<AppJar> jars, int leftOut) {}

    /**
     * The class path's entries to put under lib/: every jar (less test tooling, and less the charting library with
     * --no-charts) and the folders of compiled classes (a build tree's {@code <module>/target/classes}, jarred up as
     * {@code sbora4j-<module>.jar}). Folders of test classes are left out.
     */
    static Plan applicationJars(boolean noCharts) throws IOException {
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
                if (!p.getFileName().toString().equals("classes")
                        || p.getParent() == null
                        || p.getParent().getParent() == null) {
                    leftOut++; // test classes, or a folder that is no module's build output
                    continue;
                }
                name = "sbora4j-" + p.getParent().getParent().getFileName() + ".jar";
                jarUp = true;
            } else if (Files.isRegularFile(p) && p.getFileName().toString().endsWith(".jar")) {
                Set<String> folders = contentFolders(p);
                if (folders.isEmpty() // an aggregator (junit-jupiter, jqwik): nothing but metadata
                        || folders.stream().allMatch(BundleJars::isTestTooling)
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
            throw new IllegalStateException(
                    "cannot tell where the sbora classes were loaded from: " + cs.getLocation());
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

    static String describe(Plan plan) {
        List<String> parts = new ArrayList<>();
        for (AppJar j : plan.jars()) {
            parts.add(j.jarUp() ? j.name() + " (from " + j.source() + ")" : j.name());
        }
        return String.join(", ", parts)
                + (plan.leftOut() > 0 ? " (" + plan.leftOut() + " test or chart entries left out)" : "");
    }

    /** Writes the plan's jars under {@code lib} (less the charting library with {@code noCharts}); their names. */
    static List<String> writeJars(List<AppJar> jars, Path lib, boolean noCharts) throws IOException {
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
    static List<String> nativeLibraries(Path lib) throws IOException {
        Set<String> found = new TreeSet<>();
        try (Stream<Path> s = Files.list(lib)) {
            for (Path jar : s.toList()) {
                try (JarFile jf = new JarFile(jar.toFile(), false)) {
                    jf.stream()
                            .map(JarEntry::getName)
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
}
