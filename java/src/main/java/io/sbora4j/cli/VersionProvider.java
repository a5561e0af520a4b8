package io.sbora4j.cli;

import io.sbora4j.ffi.NativeLibraries;
import picocli.CommandLine.IVersionProvider;

/** The version the build recorded. */
final class VersionProvider implements IVersionProvider {

    @Override
    public String[] getVersion() {
        return new String[] {"sbora4j " + NativeLibraries.properties().getProperty("sbora4j.version", "dev")};
    }
}
