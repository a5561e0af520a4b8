package io.sbora4j.cli;

import io.sbora4j.demo.LlamaDemo;
import io.sbora4j.demo.LlamaDemo.Options;
import io.sbora4j.demo.LlamaDemo.Result;
import io.sbora4j.demo.LlamaDemo.Row;
import io.sbora4j.nn.LlamaConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sbora demo}: the main job (see {@link LlamaDemo}). */
@Command(
        name = "demo",
        description = "Build and pre-train a tiny LLaMA, fine-tune it to add numbers with every"
                + " adapter method, and compare them in one table (the main job).")
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOptions deviceOptions;

    @Option(names = "--out", defaultValue = "sbora-demo", description = "output folder (${DEFAULT-VALUE})")
    Path out;

    @Option(
            names = {"-r", "--rank"},
            defaultValue = "8",
            description = "adapter rank r (${DEFAULT-VALUE})")
    int rank;

    @Option(names = "--pretrain-steps", defaultValue = "400", description = "pre-training steps (${DEFAULT-VALUE})")
    int pretrainSteps;

    @Option(names = "--steps", defaultValue = "400", description = "fine-tuning steps per method (${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--seed", defaultValue = "42", description = "seed of everything (${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--hidden", description = "hidden size of the model (default: LlamaDemo's)")
    Integer hidden;

    @Option(names = "--layers", description = "decoder layers (default: LlamaDemo's)")
    Integer layers;

    @Option(names = "--lr", description = "fine-tuning learning rate (default: LlamaDemo's)")
    Double lr;

    @Override
    public Integer call() throws Exception {
        PrintWriter pw = spec.commandLine().getOut();
        Options d = Options.defaults(out, deviceOptions.resolve());
        var m = d.model();
        int h = hidden == null ? m.hiddenSize() : hidden;
        var model = new LlamaConfig(
                m.vocabSize(),
                h,
                2 * h,
                layers == null ? m.layers() : layers,
                m.heads(),
                m.kvHeads(),
                m.rmsNormEps(),
                m.ropeTheta(),
                m.maxPositions(),
                m.tieWordEmbeddings());
        Options o = new Options(
                out,
                d.device(),
                model,
                rank,
                pretrainSteps,
                steps,
                d.batch(),
                d.pretrainLr(),
                lr == null ? d.finetuneLr() : lr,
                d.maxOperand(),
                d.evalCount(),
                seed);
        long t0 = System.nanoTime();
        Result res = LlamaDemo.run(o, line -> {
            pw.println(line);
            pw.flush();
        });
        pw.println();
        pw.print(table(res));
        pw.println();
        pw.println(
                "trainable: adapter parameters (the paper's count); W changed: share of the adapted weights' elements");
        pw.println("that differ bit for bit after merging; loss: mean of the last 10 steps; accuracy: exact match of");
        pw.println(
                "greedy answers on held-out sums; saved: activation bytes the adapter ops keep for backward (1 batch).");
        pw.printf(
                Locale.ROOT,
                "base model before fine-tuning: %s correct. Total time %.0f s.%n",
                res.baseEval(),
                (System.nanoTime() - t0) / 1e9);
        pw.println("files: base model " + res.baseModel() + ", adapters " + out.resolve("adapters")
                + (res.chart() != null ? ", loss curves " + res.chart() : ""));
        return 0;
    }

    static String table(Result res) {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-14s %5s %10s %10s %9s %16s %9s %9s %12s%n";
        sb.append(String.format(
                Locale.ROOT,
                fmt,
                "method",
                "rank",
                "trainable",
                "W changed",
                "loss",
                "accuracy",
                "ms/step",
                "tok/s",
                "saved"));
        for (Row r : res.rows()) {
            sb.append(String.format(
                    Locale.ROOT,
                    fmt,
                    r.label().substring(0, r.label().indexOf(' ')),
                    r.rank(),
                    String.format(Locale.ROOT, "%,d", r.trainableParams()),
                    String.format(Locale.ROOT, "%.2f%%", r.percentChanged()),
                    String.format(Locale.ROOT, "%.4f", r.finalLoss()),
                    r.eval().toString(),
                    String.format(Locale.ROOT, "%.1f", r.msPerStep()),
                    String.format(Locale.ROOT, "%.0f", r.tokensPerSecond()),
                    String.format(Locale.ROOT, "%,d B", r.savedActivationBytes())));
        }
        return sb.toString();
    }
}
