package io.sbora4j.train;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.dist.AbortedException;
import io.sbora4j.dist.Communicator;
import io.sbora4j.dist.RankZero;
import io.sbora4j.ops.Elementwise;
import io.sbora4j.optim.AdamW;
import io.sbora4j.optim.GradientClipping;
import io.sbora4j.optim.LrSchedule;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The training loop, over any {@link Trainable} and {@link Task}: AdamW with a learning-rate schedule, gradient accumulation, clipping of the global norm,
 * dropout masks reseeded per micro-batch, and checkpoints every {@code checkpointEvery} steps. Everything random
 * is a function of the seed and the step, so a run resumed from a checkpoint takes exactly the steps the
 * uninterrupted run would have taken. A checkpoint records the run's {@link RunIdentity}; resuming with other settings
 * is refused, naming them. A non-finite loss or gradient stops the run before the step is applied,
 * leaving the last checkpoint as it was.
 *
 * <p><b>Data-parallel.</b> With a {@link Communicator} of n ranks (one Trainer per rank, each on its own copy of the
 * model), every rank computes the loss and gradients of its own shard of each micro-batch (the task decides the
 * shard, e.g. {@link LmTask} with a rank), the gradients of the trainable parameters are summed over the ranks in a
 * few bucketed all-reduces per step, and every rank takes the same optimizer step, so that the parameters stay
 * identical on all ranks. A rank's loss is weighted by its share of the micro-batch's {@link Task#lossTerms} (the
 * supervised tokens of a language model), so n ranks at batch b train as one process at batch n·b would, up to
 * the rounding of the sums (at dropout 0; with dropout, each rank draws its own masks). Before training the ranks
 * check that they run the same configuration; rank 0 alone finds the checkpoint to resume from, writes checkpoints
 * and reports progress, and a failure of its writes fails every rank. A rank that fails otherwise aborts the group
 * ({@link Communicator#abort}), so that no rank waits for it forever. The run identity does not include the number
 * of ranks: a run may resume with another number of ranks at the same global batch.
 */
public final class Trainer {

    /** The most bytes of gradients one all-reduce moves, by default. */
    public static final long DEFAULT_BUCKET_BYTES = 16L << 20;

    /**
     * @param checkpointDir   where checkpoints go (null: none); a run resumes from its latest checkpoint
     * @param checkpointEvery steps between checkpoints (0: only at the end)
     * @param run             what else defines the run, for its {@link RunIdentity} (steps, batch, data and model
     *                        fingerprints...): a checkpoint written with other values is not resumed. In
     *                        data-parallel training the batch to record is the global one (ranks x batch per
     *                        rank), and the number of ranks is left out, so that a run can resume on another
     *                        number of ranks
     */
    public record Config(
            int steps,
            int gradAccumulation,
            LrSchedule schedule,
            double weightDecay,
            double maxGradNorm,
            long seed,
            Path checkpointDir,
            int checkpointEvery,
            Map<String, String> run) {

        public Config {
            if (steps < 1
                    || gradAccumulation < 1
                    || checkpointEvery < 0
                    || !(weightDecay >= 0)
                    || !(maxGradNorm >= 0)) {
                throw new IllegalArgumentException("trainer config out of range: steps=" + steps + " accumulation="
                        + gradAccumulation + " checkpointEvery=" + checkpointEvery + " weightDecay=" + weightDecay
                        + " maxGradNorm=" + maxGradNorm);
            }
            run = run == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(run));
        }

        /** A config with nothing more in its run identity than the trainer's and the model's own settings. */
        public Config(
                int steps,
                int gradAccumulation,
                LrSchedule schedule,
                double weightDecay,
                double maxGradNorm,
                long seed,
                Path checkpointDir,
                int checkpointEvery) {
            this(
                    steps,
                    gradAccumulation,
                    schedule,
                    weightDecay,
                    maxGradNorm,
                    seed,
                    checkpointDir,
                    checkpointEvery,
                    Map.of());
        }

        /** This config with {@code fields} as the rest of its run identity. */
        public Config withRun(Map<String, String> fields) {
            return new Config(
                    steps,
                    gradAccumulation,
                    schedule,
                    weightDecay,
                    maxGradNorm,
                    seed,
                    checkpointDir,
                    checkpointEvery,
                    fields);
        }
    }

    /** The data side of training: the loss of each micro-batch, a pure function of (step, micro). */
    public interface Task {

        /** The mean loss of micro-batch {@code micro} of 0-based step {@code step}, with the graph recorded. */
        Tensor loss(long step, int micro);

        /** Tokens the loss of that micro-batch was computed on (for tokens/s). */
        long tokens(long step, int micro);

        /**
         * How many terms the loss of that micro-batch averages (its supervised target tokens, for a language
         * model). In data-parallel training each rank's loss is weighted by its share of the whole micro-batch's
         * terms, so that the sum is the mean over the whole micro-batch; by default 1: every rank weighs the same.
         */
        default long lossTerms(long step, int micro) {
            return 1;
        }
    }

    /**
     * One line of progress, after a step.
     *
     * @param loss            the loss of the step over all ranks' data
     * @param tokensPerSecond tokens of all ranks per second of wall time
     * @param allReduceMillis the time this step spent in collectives (summing the gradients, losses and token
     *                        counts, waiting for the slowest rank included); 0 with one rank
     */
    public record Progress(
            long step,
            long totalSteps,
            double loss,
            double lr,
            double gradNorm,
            double tokensPerSecond,
            double etaSeconds,
            double allReduceMillis) {}

    /**
     * What a run did.
     *
     * @param tokensPerSecond       tokens of all ranks per second
     * @param peakStepBytes         the most host memory one micro-batch held at once, in bytes of the scope's pooled
     *                              blocks ({@link MemoryScope#peakBytes()}): its activations, temporaries and
     *                              intermediate gradients
     * @param allReduceMillisPerStep the mean time a step spent in collectives (0 with one rank)
     */
    public record Result(
            List<Double> losses,
            double tokensPerSecond,
            double msPerStep,
            Optional<Path> checkpoint,
            long peakStepBytes,
            double allReduceMillisPerStep) {}

    private final Trainable model;
    private final Config config;
    private final Task task;
    private final Communicator comm;
    private long bucketBytes = DEFAULT_BUCKET_BYTES;
    /** A failure every rank meets at the same point (so none needs to abort the others). */
    private RuntimeException agreed;

    /** Trains {@code model}'s parameters on {@code task} ({@link Trainable#of} adapts an adapter or any tensors). */
    public Trainer(Trainable model, Config config, Task task) {
        this(model, config, task, Communicator.single());
    }

    /**
     * Trains {@code model}'s parameters on {@code task} as rank {@code comm.rank()} of a data-parallel group: every
     * rank makes its own Trainer, over its own copy of the model and its own shard of the data, and calls
     * {@link #run} on its own thread or process.
     */
    public Trainer(Trainable model, Config config, Task task, Communicator comm) {
        if (model.parameters().isEmpty()) {
            throw new IllegalArgumentException("nothing to train: the model has no trainable parameters");
        }
        this.model = model;
        this.config = config;
        this.task = task;
        this.comm = Objects.requireNonNull(comm, "communicator");
    }

    /**
     * Bounds the bytes of gradients one all-reduce moves ({@link #DEFAULT_BUCKET_BYTES} by default): fewer, larger
     * collectives cost less latency, smaller ones less memory. Returns this trainer.
     */
    public Trainer bucketBytes(long bytes) {
        if (bytes < Float.BYTES) {
            throw new IllegalArgumentException("bucket size must be at least 4 bytes, got " + bytes);
        }
        this.bucketBytes = bytes;
        return this;
    }

    /**
     * What defines this run: the trainable's own settings ({@link Trainable#identity}), the trainer's (schedule,
     * accumulation, weight decay, clipping, seed) and {@link Config#run}.
     */
    public RunIdentity identity() {
        Map<String, String> m = new LinkedHashMap<>(model.identity());
        LrSchedule s = config.schedule();
        m.put("seed", Long.toString(config.seed()));
        m.put("lr", Double.toString(s.peak()));
        m.put("warmup", Integer.toString(s.warmupSteps()));
        m.put("schedule", s.decay().name().toLowerCase(Locale.ROOT));
        m.put("schedule_steps", Integer.toString(s.totalSteps()));
        m.put("grad_accum", Integer.toString(config.gradAccumulation()));
        m.put("weight_decay", Double.toString(config.weightDecay()));
        m.put("max_grad_norm", Double.toString(config.maxGradNorm()));
        return new RunIdentity(m).with(config.run());
    }

    /**
     * Trains until {@code config.steps()} steps are done, starting from the latest checkpoint if there is one;
     * warnings (a damaged checkpoint skipped) go to the {@link System.Logger} of this class.
     */
    public Result run(Consumer<Progress> progress) {
        System.Logger log = System.getLogger(Trainer.class.getName());
        return run(progress, w -> log.log(System.Logger.Level.WARNING, w));
    }

    /**
     * Trains until {@code config.steps()} steps are done, starting from the newest checkpoint whose files check out
     * (each one skipped is one line to {@code warnings}).
     *
     * @throws RunMismatchException when the checkpoint was written by a run with other settings ({@link #identity})
     * @throws UncheckedIOException when there are checkpoints but none is usable, or writing one fails
     */
    public Result run(Consumer<Progress> progress, Consumer<String> warnings) {
        agreed = null;
        if (comm.size() == 1) {
            return train(progress, warnings);
        }
        try {
            return train(progress, warnings);
        } catch (RuntimeException | Error e) {
            if (e != agreed && !(e instanceof AbortedException)) {
                // the others would wait for this rank in the next collective forever
                try {
                    comm.abort(1, "training failed: " + oneLine(e));
                } catch (RuntimeException a) {
                    e.addSuppressed(a);
                }
            }
            throw e;
        }
    }

    private Result train(Consumer<Progress> progress, Consumer<String> warnings) {
        int ranks = comm.size(), rank = comm.rank();
        RunIdentity identity = identity();
        if (ranks > 1) {
            requireSameConfiguration(identity);
        }
        try (Arena arena = Arena.ofConfined();
                AdamW opt = new AdamW(
                        List.copyOf(model.parameters().values()),
                        new AdamW.Config(config.schedule().peak(), 0.9, 0.999, 1e-8, config.weightDecay()))) {
            Checkpoints checkpoints = config.checkpointDir() == null ? null : new Checkpoints(config.checkpointDir());
            List<Double> losses = new ArrayList<>();
            long start = 0;
            Optional<Path> last = Optional.empty();
            if (checkpoints != null) {
                Optional<Path> cp = latest(checkpoints, identity, warnings);
                if (cp.isPresent()) {
                    // every rank reads the checkpoint rank 0 chose: the folder is on a filesystem they share
                    Checkpoints.State state;
                    try {
                        state = Checkpoints.restore(cp.get(), model, opt);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot resume from " + cp.get() + ": " + e.getMessage(), e);
                    }
                    start = state.step();
                    losses.addAll(state.losses());
                    last = cp;
                }
            }
            GradientBuckets buckets = ranks > 1 ? new GradientBuckets(opt.parameters(), bucketBytes, arena) : null;
            model.train(true);
            int accum = config.gradAccumulation();
            long tokens = 0;
            long peak = 0;
            long reduceNanos = 0;
            long t0 = System.nanoTime();
            for (long step = start; step < config.steps(); step++) {
                long stepReduceNanos = 0;
                double[] share = new double[accum];
                if (ranks > 1) {
                    // each rank's part of every micro-batch's loss terms; the counts are tiny and exact in f64
                    double[] terms = new double[accum];
                    for (int micro = 0; micro < accum; micro++) {
                        terms[micro] = task.lossTerms(step, micro);
                    }
                    double[] all = terms.clone();
                    long r0 = System.nanoTime();
                    comm.allReduceSum(all);
                    stepReduceNanos += System.nanoTime() - r0;
                    for (int micro = 0; micro < accum; micro++) {
                        if (!(all[micro] > 0)) {
                            throw agreed(new IllegalStateException("micro-batch " + micro + " of step " + (step + 1)
                                    + " has no loss terms on any rank (no supervised token)"));
                        }
                        share[micro] = terms[micro] / all[micro];
                    }
                }
                double loss = 0;
                long stepTokens = 0; // this rank's, then all ranks'
                for (int micro = 0; micro < accum; micro++) {
                    long counter = step * accum + micro;
                    // ranks draw different dropout masks; one rank keeps the counter of a single process
                    model.startMicroBatch((counter * ranks + rank) ^ config.seed());
                    MemoryScope scope = MemoryScope.open();
                    try (scope) {
                        Tensor l = task.loss(step, micro);
                        float v = l.item();
                        Tensor scaled;
                        if (ranks == 1) {
                            if (!Float.isFinite(v)) {
                                throw diverged("loss is " + v, step, last);
                            }
                            loss += v / accum;
                            scaled = accum == 1 ? l : Elementwise.scale(l, 1f / accum);
                        } else {
                            // a non-finite loss is caught on every rank once the losses are summed
                            loss += share[micro] * v / accum;
                            scaled = Elementwise.scale(l, (float) (share[micro] / accum));
                        }
                        Autograd.backward(scaled);
                    }
                    peak = Math.max(peak, scope.peakBytes());
                    stepTokens += task.tokens(step, micro);
                }
                if (ranks > 1) {
                    long r0 = System.nanoTime();
                    double[] lossAndTokens = {loss, stepTokens};
                    comm.allReduceSum(lossAndTokens);
                    loss = lossAndTokens[0];
                    stepTokens = (long) lossAndTokens[1];
                    if (!Double.isFinite(loss)) {
                        throw agreed(diverged("loss is " + loss, step, last));
                    }
                    buckets.allReduce(comm);
                    stepReduceNanos += System.nanoTime() - r0;
                }
                tokens += stepTokens;
                reduceNanos += stepReduceNanos;
                double norm = GradientClipping.clip(opt.parameters(), config.maxGradNorm());
                if (!Double.isFinite(norm)) {
                    // the norm of the summed gradients: the same on every rank
                    throw agreed(diverged("gradient norm is " + norm, step, last));
                }
                double lr = config.schedule().at(step);
                opt.step(lr);
                opt.zeroGrad();
                losses.add(loss);
                long done = step + 1;
                double secs = (System.nanoTime() - t0) / 1e9;
                double perStep = secs / (done - start);
                if (rank == 0) {
                    progress.accept(new Progress(
                            done,
                            config.steps(),
                            loss,
                            lr,
                            norm,
                            tokens / Math.max(secs, 1e-9),
                            perStep * (config.steps() - done),
                            stepReduceNanos / 1e6));
                }
                boolean due = config.checkpointEvery() > 0 && done % config.checkpointEvery() == 0;
                if (checkpoints != null && (due || done == config.steps())) {
                    Optional<Path> previous = last;
                    Checkpoints.State state = new Checkpoints.State(done, identity, losses);
                    try {
                        // rank 0 writes; the others wait for it, and fail with it when it fails
                        last = Optional.of(Path.of(RankZero.run(comm, () -> {
                            try {
                                return checkpoints.save(model, opt, state).toString();
                            } catch (IOException e) {
                                throw new IOException(
                                        "writing the checkpoint of step " + done + " failed: " + e.getMessage() + "; "
                                                + previous.map(p -> "the last complete checkpoint is " + p)
                                                        .orElse("no checkpoint was written yet"),
                                        e);
                            }
                        })));
                    } catch (RuntimeException e) {
                        throw agreed(e);
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            long ran = config.steps() - start;
            return new Result(
                    losses,
                    tokens / Math.max(secs, 1e-9),
                    ran == 0 ? 0 : secs * 1000 / ran,
                    last,
                    peak,
                    ran == 0 ? 0 : reduceNanos / 1e6 / ran);
        }
    }

    /**
     * The checkpoint to resume from, if any: rank 0 looks for it (and deletes the leftovers of interrupted saves)
     * and checks that it belongs to this run; every rank learns its answer, or fails with its error.
     */
    private Optional<Path> latest(Checkpoints checkpoints, RunIdentity identity, Consumer<String> warnings) {
        String found;
        try {
            found = RankZero.run(comm, () -> {
                Optional<Checkpoints.Found> f;
                try {
                    f = checkpoints.findLatest(warnings);
                } catch (IOException e) {
                    throw new IOException("cannot resume: " + e.getMessage(), e);
                }
                if (f.isEmpty()) {
                    return "";
                }
                Path cp = f.get().path();
                identity.requireSameAs(f.get().state().run(), cp.toString());
                long step = f.get().state().step();
                if (step > config.steps()) {
                    throw new IllegalArgumentException(
                            cp + " is at step " + step + ", past the " + config.steps() + " steps asked for");
                }
                return cp.toString();
            });
        } catch (RuntimeException e) {
            throw agreed(e);
        }
        return found.isEmpty() ? Optional.empty() : Optional.of(Path.of(found));
    }

    /**
     * Fails every rank, with one line naming the first rank and field that differ, unless all ranks run the
     * configuration of rank 0: its run identity (adapter, optimisation, data and model fingerprints) and the names
     * and shapes of its trainable parameters.
     */
    private void requireSameConfiguration(RunIdentity identity) {
        Map<String, String> fields = new LinkedHashMap<>(identity.fields());
        StringBuilder shapes = new StringBuilder();
        model.parameters().forEach((n, t) -> shapes.append(n).append(t.shape()).append(';'));
        fields.put("trainable_parameters", Integer.toHexString(shapes.toString().hashCode()));
        RunIdentity mine = new RunIdentity(fields);
        byte[] root = comm.broadcast(comm.rank() == 0 ? mine.record(0).getBytes(StandardCharsets.UTF_8) : null, 0);
        List<String> diff = mine.differencesFrom(RunIdentity.parseRecord(new String(root, StandardCharsets.UTF_8)));
        double[] differs = new double[comm.size()];
        differs[comm.rank()] = diff.isEmpty() ? 0 : 1;
        comm.allReduceSum(differs);
        for (int k = 0; k < differs.length; k++) {
            if (differs[k] > 0) {
                String line = comm.rank() == k
                        ? "rank " + k + " runs a different configuration than rank 0: " + diff.getFirst()
                        : null;
                byte[] got = comm.broadcast(line == null ? null : line.getBytes(StandardCharsets.UTF_8), k);
                throw agreed(new IllegalArgumentException(new String(got, StandardCharsets.UTF_8)));
            }
        }
    }

    private <E extends RuntimeException> E agreed(E e) {
        agreed = e;
        return e;
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\n', ' ').replace('\r', ' ');
    }

    private static TrainingDivergedException diverged(String what, long step, Optional<Path> last) {
        return new TrainingDivergedException("training diverged at step " + (step + 1) + ": " + what + "; "
                + last.map(p -> "the last good checkpoint is " + p).orElse("no checkpoint was written yet")
                + " (try a lower learning rate)");
    }
}
