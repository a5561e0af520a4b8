package io.sbora4j.cli;

import io.sbora4j.cuda.NcclCommunicator;
import io.sbora4j.data.AlpacaDataset;
import io.sbora4j.data.Example;
import io.sbora4j.data.PromptTemplate;
import io.sbora4j.data.SftData;
import io.sbora4j.data.Tokenizer;
import io.sbora4j.dist.AbortedException;
import io.sbora4j.dist.Communicator;
import io.sbora4j.dist.RankZero;
import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.Fingerprints;
import io.sbora4j.io.LoadOptions;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.optim.LrSchedule;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.train.Checkpoints;
import io.sbora4j.train.LmTask;
import io.sbora4j.train.RunIdentity;
import io.sbora4j.train.RunMismatchException;
import io.sbora4j.train.Trainable;
import io.sbora4j.train.Trainer;
import java.io.PrintWriter;
import java.io.Writer;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sbora finetune}: trains an adapter on a base model and Alpaca-style data, with resumable checkpoints. */
@Command(
        name = "finetune",
        description = "Fine-tune an adapter (any method) on a model directory and a JSON/JSONL"
                + " dataset; resumes from the latest checkpoint in --out, which must be of a run with the same"
                + " settings (--restart starts over).")
final class FinetuneCommand implements Callable<Integer> {

    private static final double MIB = 1024.0 * 1024.0;

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOptions deviceOptions;

    @Option(names = "--model", required = true, description = "model directory (config.json + safetensors)")
    Path model;

    @Option(names = "--data", required = true, description = "Alpaca-style .json or .jsonl")
    Path data;

    @Option(
            names = "--method",
            required = true,
            description = "lora, lora-fa, dora, sbora-fa, sbora-fb, or a method a plug-in on the class path adds")
    String method;

    @Option(
            names = {"-r", "--r"},
            required = true,
            description = "rank")
    int r;

    @Option(names = "--alpha", required = true, description = "scaling numerator: s = alpha / r")
    double alpha;

    @Option(names = "--targets", split = ",", description = "target modules (default: all seven projections)")
    List<String> targets;

    static final class Length {
        @Option(names = "--steps", description = "optimizer steps")
        Integer steps;

        @Option(names = "--epochs", description = "passes over the data")
        Double epochs;
    }

    @ArgGroup(exclusive = true)
    Length length;

    @Option(names = "--lr", defaultValue = "3e-4", description = "peak learning rate (${DEFAULT-VALUE})")
    double lr;

    @Option(
            names = "--batch",
            defaultValue = "4",
            description = "sequences per micro-batch on each rank (${DEFAULT-VALUE}); data-parallel ranks together"
                    + " take ranks x batch")
    int batch;

    @Option(names = "--grad-accum", defaultValue = "1", description = "micro-batches per step (${DEFAULT-VALUE})")
    int gradAccum;

    @Option(names = "--seq-len", defaultValue = "256", description = "tokens per sequence (${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--seed", defaultValue = "42", description = "seed (${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--dropout", defaultValue = "0", description = "adapter dropout (${DEFAULT-VALUE})")
    double dropout;

    @Option(names = "--warmup", defaultValue = "0", description = "warmup steps (${DEFAULT-VALUE})")
    int warmup;

    @Option(
            names = "--schedule",
            defaultValue = "linear",
            description = "constant, linear or cosine (${DEFAULT-VALUE})")
    String schedule;

    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW weight decay (${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "clip the gradient norm (${DEFAULT-VALUE})")
    double maxGradNorm;

    @Option(
            names = "--checkpoint-every",
            defaultValue = "100",
            description = "steps between checkpoints (${DEFAULT-VALUE})")
    int checkpointEvery;

    @Option(
            names = "--checkpoint-activations",
            description = "keep only each decoder layer's input and recompute its activations in the backward pass:"
                    + " less memory for about one more forward pass of time")
    boolean checkpointActivations;

    @Option(
            names = "--template",
            defaultValue = "alpaca",
            description = "alpaca (LLM-Adapters) or plain (${DEFAULT-VALUE})")
    String template;

    @Option(names = "--out", required = true, description = "output adapter directory")
    Path out;

    @Option(
            names = "--restart",
            description = "start over: delete the checkpoints in --out (the adapter there is replaced when the new run"
                    + " ends) instead of resuming, and train even when --out holds the work of a run with other"
                    + " settings")
    boolean restart;

    @Mixin
    TokenizerOptions tokenizerOptions;

    @Mixin
    QuantizeOptions quantizeOptions;

    /**
     * The data-parallel group this process trains in: one rank by default. Every rank runs this command with the
     * same arguments; rank 0 alone prints, and writes the checkpoints, the adapter and its run record into
     * {@code --out} (on a filesystem every rank sees).
     */
    Communicator communicator = Communicator.single();

    /** Set while a step runs that fails on every rank alike or aborts the group itself (the trainer, RankZero). */
    private boolean collective;

    @Override
    public Integer call() throws Exception {
        if (communicator.size() == 1) {
            return finetune();
        }
        try {
            return finetune();
        } catch (Exception | Error e) {
            if (!collective && !(e instanceof AbortedException)) {
                // a failure of this rank alone (its model, its data): the others would wait for it forever
                try {
                    communicator.abort(
                            1,
                            "finetune failed: " + String.valueOf(e.getMessage()).replace('\n', ' '));
                } catch (RuntimeException a) {
                    e.addSuppressed(a);
                }
            }
            throw e;
        }
    }

    private int finetune() throws Exception {
        Communicator comm = communicator;
        int ranks = comm.size();
        boolean lead = comm.rank() == 0;
        PrintWriter pw = lead ? spec.commandLine().getOut() : new PrintWriter(Writer.nullWriter());
        var device = deviceOptions.resolve();
        NcclCommunicator gpus = null;
        if (ranks > 1 && !device.isHost()) { // gradients on the GPUs: summed there, over NCCL, not through the host
            gpus = NcclCommunicator.over(comm);
            comm = gpus;
        }
        AdapterConfig cfg = new AdapterConfig(
                AdapterMethods.of(method), r, alpha, dropout, AdapterConfig.Init.KAIMING_UNIFORM, seed, targets, null);
        if (checkpointActivations && dropout > 0) {
            throw new IllegalArgumentException("--checkpoint-activations needs --dropout 0: a checkpointed layer runs"
                    + " its forward again in the backward pass, and dropout would draw other masks");
        }
        List<Example> examples = AlpacaDataset.read(data);
        Checkpoints checkpoints = new Checkpoints(out.resolve("checkpoints"));
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(model, quantizeOptions.loadOptions(LoadOptions.on(device)), arena);
            quantizeOptions.report(m, pw);
            Tokenizer tok = tokenizerOptions.resolve(model, m.config().vocabSize());
            SftData sft = new SftData(examples, tok, PromptTemplate.parse(template), seqLen, seed);
            if (batch < 1) {
                throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
            }
            int globalBatch = Math.multiplyExact(batch, ranks);
            int steps = length == null
                    ? sft.size() / (globalBatch * gradAccum) + 1
                    : length.steps != null
                            ? length.steps
                            : (int) Math.ceil(length.epochs * sft.size() / (globalBatch * gradAccum));
            if (steps < 1) {
                throw new IllegalArgumentException("--steps/--epochs gives no step to take");
            }
            m.checkpointActivations(checkpointActivations);
            var peft = PeftModel.inject(m, cfg, arena);
            Map<String, String> run = new LinkedHashMap<>();
            run.put("steps", Integer.toString(steps));
            // the global batch, not the ranks: a run may resume on another number of ranks at the same global batch
            run.put("batch", Integer.toString(globalBatch));
            run.put("seq_len", Integer.toString(seqLen));
            run.put("template", template);
            run.put("tokenizer", tokenizerOptions.describe(model));
            run.put("base_format", quantizeOptions.format());
            run.put("data", Fingerprints.file(data));
            run.put("model", Fingerprints.model(model));
            Trainer.Config tc = new Trainer.Config(
                            steps,
                            gradAccum,
                            new LrSchedule(lr, Math.min(warmup, steps), steps, LrSchedule.Decay.parse(schedule)),
                            weightDecay,
                            maxGradNorm,
                            seed,
                            checkpoints.dir(),
                            checkpointEvery)
                    .withRun(run);
            Trainer trainer =
                    new Trainer(Trainable.of(peft), tc, new LmTask(m, sft, batch, gradAccum, comm.rank(), ranks), comm);
            RunIdentity identity = trainer.identity();
            // rank 0 alone touches --out; the others wait, and fail with it
            collective = true;
            RankZero.run(comm, () -> {
                AdapterFiles.recover(out); // finish or undo an adapter save a crash interrupted
                if (restart) {
                    checkpoints.deleteAll();
                } else if (!checkpoints.any() && AdapterFiles.present(out)) {
                    // no checkpoint to compare with: the adapter's own record says which run wrote it
                    RunIdentity previous = AdapterFiles.readRunRecord(out)
                            .map(RunIdentity::parseRecord)
                            .orElseThrow(() -> new IllegalArgumentException(out + " holds an adapter with no record"
                                    + " of the run that wrote it; --restart replaces it"));
                    try {
                        identity.requireSameAs(
                                previous, out.resolve(AdapterFiles.RUN).toString());
                    } catch (RunMismatchException e) {
                        throw new IllegalArgumentException(e.getMessage() + "; --restart starts over", e);
                    }
                }
                return "";
            });
            collective = false;
            pw.println(peft.report());
            if (ranks == 1) {
                pw.printf(
                        Locale.ROOT,
                        "%d examples, %d steps of %d x %d sequences, %s%n",
                        sft.size(),
                        steps,
                        gradAccum,
                        batch,
                        cfg.method());
            } else {
                pw.printf(
                        Locale.ROOT,
                        "%d examples, %d steps of %d x %d sequences (%d ranks x batch %d), %s; %s%n",
                        sft.size(),
                        steps,
                        gradAccum,
                        globalBatch,
                        ranks,
                        batch,
                        cfg.method(),
                        comm.describe());
            }
            PrintWriter err = spec.commandLine().getErr();
            Progress progress = new Progress(pw);
            Trainer.Result res;
            collective = true; // the trainer aborts the group itself when this rank alone fails
            try {
                res = trainer.run(progress::show, w -> {
                    err.println("sbora finetune: warning: " + w.replace('\n', ' '));
                    err.flush();
                });
            } catch (RunMismatchException e) {
                throw new IllegalArgumentException(
                        e.getMessage() + "; --restart starts over, deleting the checkpoints", e);
            }
            progress.finish();
            RankZero.run(comm, () -> {
                AdapterFiles.save(peft, out, identity.record(steps));
                return "";
            });
            pw.printf(
                    Locale.ROOT,
                    "final loss %.4f, %.0f tokens/s; adapter written to %s%n",
                    res.losses().getLast(),
                    res.tokensPerSecond(),
                    out);
            if (ranks > 1) {
                pw.printf(Locale.ROOT, "all-reduce %.2f ms per step%n", res.allReduceMillisPerStep());
            }
            MemoryScope.PoolStats pool = MemoryScope.poolStats();
            pw.printf(
                    Locale.ROOT,
                    "peak step memory %.1f MiB of host tensors (the pool holds %.1f MiB)%n",
                    res.peakStepBytes() / MIB,
                    pool.held() / MIB);
        }
        if (gpus != null) {
            gpus.close(); // the MPI communicator under it stays: the process leaves the job on exit
        }
        return 0;
    }
}
