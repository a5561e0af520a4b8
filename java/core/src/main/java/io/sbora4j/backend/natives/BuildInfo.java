package io.sbora4j.backend.natives;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version the build recorded, which also keys the cache folders native libraries are extracted into. */
public final class BuildInfo {

    private static final String VERSION = read();

    private BuildInfo() {}

    /** This build's version, e.g. {@code 0.1.0-SNAPSHOT} ({@code dev} when the build recorded none). */
    public static String version() {
        return VERSION;
    }

    private static String read() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // informative only: extraction keys fall back to content hashes
        }
        String v = p.getProperty("sbora4j.version", "dev");
        return v.startsWith("${") ? "dev" : v;
    }
}
