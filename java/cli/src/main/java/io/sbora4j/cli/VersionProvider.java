package io.sbora4j.cli;

import io.sbora4j.backend.natives.BuildInfo;
import picocli.CommandLine.IVersionProvider;

/** The version the build recorded. */
final class VersionProvider implements IVersionProvider {

    @Override
    public String[] getVersion() {
        return new String[] {"sbora4j " + BuildInfo.version()};
    }
}
