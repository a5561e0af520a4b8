package io.sbora4j.cli;

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
            MergeCommand.class,
            ExportCommand.class,
            ForwardCommand.class,
            LayerDemoCommand.class,
            InfoCommand.class,
            BundleCommand.class,
            CommandLine.HelpCommand.class
        })
public final class SboraCli {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests and embedding). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new SboraCli());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("sbora " + cmd.getCommandName() + ": " + oneLine(ex));
            return 1;
        });
        // a usage error too is one line (picocli's default adds the whole usage help)
        cl.setParameterExceptionHandler((ex, args1) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + oneLine(ex) + " (see --help)");
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        return cl.execute(args);
    }

    private static String oneLine(Throwable ex) {
        String msg = ex.getMessage();
        if (msg == null || msg.isBlank()) {
            msg = ex.getClass().getSimpleName();
        }
        return msg.replace('\n', ' ');
    }
}
