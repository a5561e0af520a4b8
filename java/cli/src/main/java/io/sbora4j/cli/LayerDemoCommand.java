package io.sbora4j.cli;

import io.sbora4j.demo.LinearDemo;
import io.sbora4j.demo.LinearDemo.Options;
import io.sbora4j.demo.LinearDemo.Row;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sbora layer-demo}: every adapter method trained on one layer, compared in one table. */
@Command(
        name = "layer-demo",
        description = "Train one adapted linear layer with every method on a synthetic"
                + " regression task and compare them.")
final class LayerDemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOptions deviceOptions;

    @Option(names = "--dim", defaultValue = "256", description = "in = out features of the layer (${DEFAULT-VALUE})")
    int dim;

    @Option(names = "--tokens", defaultValue = "256", description = "tokens per batch (${DEFAULT-VALUE})")
    int tokens;

    @Option(
            names = {"-r", "--rank"},
            defaultValue = "8",
            description = "adapter rank r (${DEFAULT-VALUE})")
    int rank;

    @Option(names = "--alpha", defaultValue = "16", description = "scaling numerator alpha (${DEFAULT-VALUE})")
    double alpha;

    @Option(names = "--steps", defaultValue = "300", description = "training steps per method (${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--lr", defaultValue = "5e-3", description = "AdamW learning rate (${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--seed", defaultValue = "42", description = "seed of data, init and indices (${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Options o = new Options(deviceOptions.resolve(), dim, tokens, rank, alpha, steps, lr, 4, seed);
        out.printf(
                Locale.ROOT,
                "sbora layer-demo: one %dx%d layer, teacher W + rank-%d update, %d tokens/step, %d steps,"
                        + " AdamW lr %.0e, device %s%n",
                dim,
                dim,
                o.teacherRank(),
                tokens,
                steps,
                lr,
                o.device());
        List<Row> rows = LinearDemo.run(o, msg -> {
            out.println("  " + msg);
            out.flush();
        });
        out.println();
        out.print(table(rows, dim));
        out.println();
        out.println("loss: mean squared error to the teacher on held-out inputs, before -> after training.");
        out.println("W changed: rows and columns of W that differ bit for bit from the original after merge;");
        out.println("merge err: max |adapter forward - merged forward|; saved: adapter activations kept for backward.");
        return 0;
    }

    static String table(List<Row> rows, int dim) {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-14s %10s %21s %9s %17s %10s %12s%n";
        sb.append(String.format(
                Locale.ROOT, fmt, "method", "trainable", "loss", "ms/step", "W changed", "merge err", "saved"));
        for (Row r : rows) {
            sb.append(String.format(
                    Locale.ROOT,
                    fmt,
                    r.label(),
                    String.format(Locale.ROOT, "%,d", r.trainableParams()),
                    String.format(Locale.ROOT, "%.4f -> %.5f", r.initialLoss(), r.finalLoss()),
                    String.format(Locale.ROOT, "%.2f", r.msPerStep()),
                    String.format(Locale.ROOT, "%d rows x %d cols", r.rowsChanged(), r.columnsChanged()),
                    String.format(Locale.ROOT, "%.1e", r.mergeMaxAbsDiff()),
                    String.format(Locale.ROOT, "%,d B", r.savedActivationBytes())));
        }
        return sb.toString();
    }
}
