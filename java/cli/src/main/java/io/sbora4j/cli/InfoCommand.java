package io.sbora4j.cli;

import io.sbora4j.backend.Backends;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code sbora info}: the backends found, where the libraries were loaded from, and why a backend is unavailable. */
@Command(name = "info", description = "Backends found, library paths, threads, and why a backend is unavailable.")
final class InfoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.println(new VersionProvider().getVersion()[0] + " on Java " + Runtime.version() + ", "
                + Runtime.getRuntime().availableProcessors() + " cores");
        out.println("default device: " + Backends.defaultDevice());
        for (String name : Backends.names()) {
            var reason = Backends.unavailableReason(name);
            out.println("  " + name + ": "
                    + reason.map(r -> "unavailable: " + r)
                            .orElseGet(() -> "available ("
                                    + Backends.of(Backends.device(name)).describe() + ")"));
        }
        out.println("libraries:");
        for (String name : Backends.names()) {
            for (String line : Backends.libraries(name)) {
                out.println("  " + line);
            }
        }
        return 0;
    }
}
