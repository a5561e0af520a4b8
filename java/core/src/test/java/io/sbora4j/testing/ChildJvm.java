package io.sbora4j.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a new JVM like the one running the tests: the same {@code java}, the same class path, native
 * access on. For tests that need a process of their own (one they kill, one that may abort, an MPI rank).
 */
public final class ChildJvm {

    private ChildJvm() {}

    /** The {@code java} executable of this JVM. */
    public static String java() {
        return ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** {@code java --enable-native-access=ALL-UNNAMED jvmOptions -cp <this class path> mainClass args}. */
    public static List<String> command(List<String> jvmOptions, String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        return cmd;
    }
}
