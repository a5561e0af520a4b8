package io.sbora4j.cli;

import io.sbora4j.dist.Communicator;
import io.sbora4j.mpi.Mpi;
import io.sbora4j.mpi.MpiUnavailableException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sbora} command line. Errors are one line on stderr and a non-zero exit code. */
@Command(
        name = "sbora",
        mixinStandardHelpOptions = true,
        scope = CommandLine.ScopeType.INHERIT, // every command: --help
        versionProvider = VersionProvider.class,
        description = "SBoRA and baseline adapters on native kernels.",
        subcommands = {
            DemoCommand.class,
            FinetuneCommand.class,
            EvalCommand.class,
            GenerateCommand.class,
            ServeCommand.class,
            MergeCommand.class,
            ExportCommand.class,
            ForwardCommand.class,
            LayerDemoCommand.class,
            InfoCommand.class,
            BundleCommand.class,
            CommandLine.HelpCommand.class
        })
public final class SboraCli {

    /**
     * The command line. In a process started by an MPI launcher ({@code mpirun -np N sbora finetune ...}) it runs as
     * one rank of the MPI job: {@code finetune} trains data-parallel. A rank that succeeds leaves the job with
     * {@code MPI_Finalize}; one that fails ends the whole job ({@code MPI_Abort}), so that no rank waits for it.
     */
    public static void main(String[] args) {
        if (!Mpi.launched()) {
            System.exit(run(args));
        }
        Communicator world;
        try {
            world = Mpi.world();
        } catch (MpiUnavailableException e) {
            System.err.println("sbora: started by an MPI launcher, but MPI cannot be used: " + e.getMessage());
            System.exit(2);
            return;
        }
        int code = run(world, args);
        if (code != 0) {
            // the error is printed; the other ranks may wait in a collective for this one
            world.abort(code, "sbora " + (args.length > 0 ? args[0] : "") + " failed (exit status " + code + ")");
        }
        world.close(); // MPI_Finalize: only once every rank got here, which is why a failure aborts instead
        System.exit(0);
    }

    /** Runs the command line and returns its exit code (for tests and embedding). */
    public static int run(String... args) {
        return run(Communicator.single(), args);
    }

    /**
     * Runs the command line as one rank of the data-parallel group {@code comm} and returns its exit code: every
     * rank calls this with the same arguments ({@code finetune} trains data-parallel; rank 0 alone prints and writes
     * the output). Errors are printed by every rank, with its number.
     */
    public static int run(Communicator comm, String... args) {
        return commandLine(comm).execute(args);
    }

    /** The command line with its one-line error handlers, whose {@code finetune} trains as a rank of {@code comm}. */
    static CommandLine commandLine(Communicator comm) {
        CommandLine.IFactory defaults = CommandLine.defaultFactory();
        CommandLine cl = new CommandLine(new SboraCli(), new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                K made = defaults.create(cls);
                if (made instanceof FinetuneCommand f) {
                    f.communicator = comm;
                }
                return made;
            }
        });
        String rank = comm.size() == 1 ? "" : " (rank " + comm.rank() + ")";
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("sbora " + cmd.getCommandName() + rank + ": " + oneLine(ex));
            return 1;
        });
        // a usage error too is one line (picocli's default adds the whole usage help)
        cl.setParameterExceptionHandler((ex, args1) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + oneLine(ex) + " (see --help)");
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        return cl;
    }

    private static String oneLine(Throwable ex) {
        String msg = ex.getMessage();
        if (msg == null || msg.isBlank()) {
            msg = ex.getClass().getSimpleName();
        }
        return msg.replace('\n', ' ');
    }
}
