package io.sbora4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.spi.ToolProvider;

/** The Java runtime of a bundle: jlink, then the class-data-sharing archives jlink would write (quietly). */
final class BundleRuntime {

    private BundleRuntime() {}

    /**
     * Links a runtime of {@code modules} into {@code runtime} (stripped, compressed, no headers or man pages), with
     * the class-data-sharing archives unless {@code small}.
     */
    static void link(ToolProvider jlink, List<String> modules, Path runtime, boolean small) throws IOException {
        StringWriter log = new StringWriter();
        int rc;
        try (PrintWriter pw = new PrintWriter(log)) {
            rc = jlink.run(
                    pw,
                    pw,
                    "--add-modules",
                    String.join(",", modules),
                    "--strip-debug",
                    "--no-header-files",
                    "--no-man-pages",
                    "--compress=zip-9",
                    "--output",
                    runtime.toString());
        }
        if (rc != 0) {
            throw new IllegalStateException("jlink failed: "
                    + log.toString()
                            .lines()
                            .filter(l -> !l.isBlank())
                            .findFirst()
                            .orElse("exit code " + rc));
        }
        if (!Files.isExecutable(runtime.resolve("bin").resolve("java"))) {
            throw new IllegalStateException(
                    "jlink wrote no " + runtime.resolve("bin").resolve("java"));
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
}
