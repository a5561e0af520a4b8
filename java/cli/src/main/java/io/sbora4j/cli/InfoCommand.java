package io.sbora4j.cli;

import io.sbora4j.backend.Backends;
import io.sbora4j.mpi.Mpi;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code sbora info}: the backends found, where the libraries were loaded from (MPI's too), and why a backend or MPI
 * is unavailable.
 */
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
        // loads the MPI library to read its version, without initialising MPI
        out.println("  mpi: "
                + Mpi.unavailableReason()
                        .map(r -> "unavailable: " + r)
                        .orElseGet(() -> Mpi.libraryVersion()
                                        .map(v -> v.lines().findFirst().orElse(v))
                                        .orElse("loaded")
                                + (Mpi.launched() ? " (this process was started by an MPI launcher)" : "")));
        return 0;
    }
}
