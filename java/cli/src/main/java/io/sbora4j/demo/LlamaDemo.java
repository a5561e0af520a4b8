package io.sbora4j.demo;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.autograd.Node;
import io.sbora4j.data.ByteTokenizer;
import io.sbora4j.data.Evaluation;
import io.sbora4j.data.Example;
import io.sbora4j.data.PromptTemplate;
import io.sbora4j.data.SftData;
import io.sbora4j.data.SyntheticTasks;
import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.LoadOptions;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.optim.LrSchedule;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.quant.Quantization;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.train.LmTask;
import io.sbora4j.train.Trainable;
import io.sbora4j.train.Trainer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The main job: a tiny LLaMA built from a seed, pre-trained briefly on a built-in corpus without arithmetic, saved
 * in HF's layout, then fine-tuned to add numbers with each adapter method — LoRA, LoRA-FA, DoRA, SBoRA-FA and
 * SBoRA-FB at rank r, and SBoRA-FA at 2r (LoRA's parameter budget) — and compared in one table.
 */
public final class LlamaDemo {

    private LlamaDemo() {}

    /** The knobs; {@link #defaults(Path)} runs in a few minutes on two cores. */
    public record Options(
            Path out,
            Device device,
            LlamaConfig model,
            int rank,
            int pretrainSteps,
            int finetuneSteps,
            int batch,
            double pretrainLr,
            double finetuneLr,
            int maxOperand,
            int evalCount,
            long seed) {

        public static Options defaults(Path out, Device device) {
            return new Options(
                    out,
                    device,
                    new LlamaConfig(259, 128, 256, 4, 4, 2, 1e-6, 10000, 64, false),
                    8,
                    400,
                    400,
                    16,
                    3e-3,
                    4e-3,
                    19,
                    60,
                    42);
        }
    }

    /** One configuration the demo trains: a method at a rank, over an f32 or an NF4 base. */
    public record Run(AdapterMethod method, int rank, boolean nf4) {
        public String label() {
            return (nf4 ? method.quantizedName() : method.id()) + " r=" + rank;
        }
    }

    /** Each method at r, SBoRA-FA at 2r (LoRA's parameter budget), and QSBoRA-FA and QLoRA over an NF4 base. */
    public static List<Run> plan(int r) {
        List<Run> runs = new ArrayList<>();
        for (Object[] p : LinearDemo.plan(r)) {
            runs.add(new Run((AdapterMethod) p[0], (Integer) p[1], false));
        }
        runs.add(new Run(AdapterMethods.SBORA_FA, r, true));
        runs.add(new Run(AdapterMethods.LORA, r, true));
        return runs;
    }

    /** One line of the table. */
    public record Row(
            String label,
            AdapterMethod method,
            int rank,
            long trainableParams,
            double percentChanged,
            double finalLoss,
            Evaluation.Result eval,
            double msPerStep,
            double tokensPerSecond,
            long savedActivationBytes,
            List<Double> losses,
            Path adapterDir) {}

    /** Everything the demo produced; {@code chart} is null where the runtime cannot draw one. */
    public record Result(
            Path baseModel, double basePretrainLoss, Evaluation.Result baseEval, List<Row> rows, Path chart) {}

    public static Result run(Options o, Consumer<String> log) throws IOException {
        Files.createDirectories(o.out());
        ByteTokenizer tok = new ByteTokenizer();
        Path baseDir = o.out().resolve("base-model");
        double pretrainLoss = pretrain(o, tok, baseDir, log);

        List<Example> all = SyntheticTasks.addition(o.seed(), o.maxOperand());
        List<Example> eval = all.subList(0, Math.min(o.evalCount(), all.size() / 4));
        List<Example> train = all.subList(eval.size(), all.size());
        SftData data = new SftData(train, tok, PromptTemplate.PLAIN, 32, o.seed());
        log.accept("fine-tuning task: a + b for a, b in [0, " + o.maxOperand() + "]: " + train.size()
                + " training examples, " + eval.size() + " held out for evaluation");

        Evaluation.Result baseEval;
        try (Arena arena = Arena.ofConfined()) {
            baseEval = Evaluation.run(
                    ModelFiles.load(baseDir, LoadOptions.on(o.device()), arena),
                    tok,
                    PromptTemplate.PLAIN,
                    eval,
                    4,
                    null);
        }
        log.accept("base model before fine-tuning: accuracy " + baseEval);

        List<Row> rows = new ArrayList<>();
        Map<String, List<Double>> curves = new LinkedHashMap<>();
        for (Run run : plan(o.rank())) {
            Row row = finetune(o, tok, baseDir, data, eval, run, log);
            rows.add(row);
            curves.put(row.label(), row.losses());
        }
        Path chart = o.out().resolve("loss_curves.png");
        try {
            LossChart.write("sbora demo: fine-tuning a tiny LLaMA to add numbers", curves, chart);
        } catch (LinkageError e) { // a runtime without java.desktop or the chart library (sbora bundle --no-charts)
            log.accept("loss chart skipped: this Java runtime cannot draw charts (" + e.getMessage() + ")");
            chart = null;
        }
        return new Result(baseDir, pretrainLoss, baseEval, rows, chart);
    }

    /** Trains every weight of a fresh model on the corpus and saves it; returns the last loss. */
    private static double pretrain(Options o, ByteTokenizer tok, Path dir, Consumer<String> log) throws IOException {
        List<String> corpus = SyntheticTasks.corpus(o.seed(), 4000);
        List<SftData.Sequence> seqs = new ArrayList<>();
        for (String line : corpus) {
            int[] t = tok.encode(line);
            int n = Math.min(t.length + 1, o.model().maxPositions());
            int[] in = new int[n], tg = new int[n];
            in[0] = tok.bosId();
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    in[i] = t[i - 1];
                }
                tg[i] = i < t.length ? t[i] : tok.eosId();
            }
            seqs.add(new SftData.Sequence(in, tg));
        }
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel model = LlamaModel.random(o.model(), o.seed(), o.device(), arena);
            model.setTrainable(true);
            log.accept(String.format(
                    Locale.ROOT,
                    "pre-training a %,d-parameter LLaMA (%d layers, hidden %d,"
                            + " %d heads / %d kv heads) on %d lines of built-in text, %d steps",
                    model.parameterCount(),
                    o.model().layers(),
                    o.model().hiddenSize(),
                    o.model().heads(),
                    o.model().kvHeads(),
                    corpus.size(),
                    o.pretrainSteps()));
            Map<String, Tensor> weights = new LinkedHashMap<>();
            model.namedTensors().forEach((name, t) -> {
                if (t.requiresGrad()) {
                    weights.put(name, t);
                }
            });
            Trainer.Config tc = new Trainer.Config(
                    o.pretrainSteps(),
                    1,
                    new LrSchedule(o.pretrainLr(), o.pretrainSteps() / 10, o.pretrainSteps(), LrSchedule.Decay.COSINE),
                    0.01,
                    1.0,
                    o.seed(),
                    null,
                    0);
            long t0 = System.nanoTime();
            Trainer.Result res = new Trainer(Trainable.of(weights), tc, new Trainer.Task() {
                        @Override
                        public Tensor loss(long step, int micro) {
                            SftData.Batch bt = batch(step);
                            return model.loss(bt.ids(), bt.targets(), SftData.IGNORE);
                        }

                        @Override
                        public long tokens(long step, int micro) {
                            return batch(step).tokens();
                        }

                        private SftData.Batch batch(long step) {
                            List<SftData.Sequence> batch = new ArrayList<>();
                            for (int b = 0; b < o.batch(); b++) {
                                batch.add(seqs.get((int) ((step * o.batch() + b) % seqs.size())));
                            }
                            return SftData.pad(batch, tok.padId(), o.device());
                        }
                    })
                    .run(p -> {
                        if (p.step() % 50 == 0 || p.step() == p.totalSteps()) {
                            log.accept(String.format(
                                    Locale.ROOT,
                                    "  pre-train step %d/%d  loss %.4f  (%.1f s)",
                                    p.step(),
                                    p.totalSteps(),
                                    p.loss(),
                                    (System.nanoTime() - t0) / 1e9));
                        }
                    });
            double last = res.losses().getLast();
            model.setTrainable(false);
            ModelFiles.save(model, dir);
            log.accept("saved the base model to " + dir);
            return last;
        }
    }

    private static Row finetune(
            Options o, ByteTokenizer tok, Path baseDir, SftData data, List<Example> eval, Run run, Consumer<String> log)
            throws IOException {
        String label = run.label();
        AdapterMethod m = run.method();
        int r = run.rank();
        try (Arena arena = Arena.ofConfined()) {
            LoadOptions options = LoadOptions.on(o.device()).asWritable();
            LlamaModel model = ModelFiles.load(
                    baseDir, run.nf4() ? options.withProjections(LoadOptions.Projections.NF4) : options, arena);
            if (run.nf4()) {
                log.accept("  " + label + ": " + Quantization.report(model));
            }
            AdapterConfig cfg = AdapterConfig.of(m, r, 2.0 * r).withSeed(o.seed());
            var peft = PeftModel.inject(model, cfg, arena);
            Trainer.Config tc = new Trainer.Config(
                    o.finetuneSteps(),
                    1,
                    new LrSchedule(o.finetuneLr(), o.finetuneSteps() / 10, o.finetuneSteps(), LrSchedule.Decay.LINEAR),
                    0.0,
                    1.0,
                    o.seed(),
                    null,
                    0);
            Trainer.Result res = new Trainer(Trainable.of(peft), tc, new LmTask(model, data, o.batch(), 1)).run(pr -> {
                if (pr.step() % 50 == 0 || pr.step() == pr.totalSteps()) {
                    log.accept(String.format(
                            Locale.ROOT,
                            "  %-14s step %d/%d  loss %.4f",
                            label,
                            pr.step(),
                            pr.totalSteps(),
                            pr.loss()));
                }
            });
            long saved = savedActivationBytes(model, data, o);
            peft.train(false);
            Evaluation.Result ev = Evaluation.run(model, tok, PromptTemplate.PLAIN, eval, 4, null);
            Path adapterDir = o.out().resolve("adapters").resolve(label.replace(" r=", "-r"));
            AdapterFiles.save(peft, adapterDir);
            double changed = peft.mergeAllAndCount().percent();
            double fin = average(res.losses(), 10);
            log.accept(String.format(
                    Locale.ROOT,
                    "  %-14s done: loss %.4f, accuracy %s, %.1f ms/step",
                    label,
                    fin,
                    ev,
                    res.msPerStep()));
            return new Row(
                    label,
                    m,
                    r,
                    peft.report().trainable(),
                    changed,
                    fin,
                    ev,
                    res.msPerStep(),
                    res.tokensPerSecond(),
                    saved,
                    res.losses(),
                    adapterDir);
        }
    }

    /** Activation bytes the adapter ops of one training forward keep for backward (base weights excluded). */
    private static long savedActivationBytes(LlamaModel model, SftData data, Options o) {
        try (MemoryScope ignored = MemoryScope.open()) {
            SftData.Batch b = data.batch(0, 0, 1, o.batch(), o.device());
            Tensor loss = model.loss(b.ids(), b.targets(), SftData.IGNORE);
            long bytes = 0;
            for (Node n : Autograd.nodes(loss)) {
                if (n.name().endsWith("_linear")) {
                    bytes += n.savedBytes();
                }
            }
            return bytes;
        }
    }

    private static double average(List<Double> v, int last) {
        double s = 0;
        int n = Math.min(last, v.size());
        for (int i = v.size() - n; i < v.size(); i++) {
            s += v.get(i);
        }
        return n == 0 ? Double.NaN : s / n;
    }
}
