package io.sbora4j.train;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.ops.Elementwise;
import io.sbora4j.optim.AdamW;
import io.sbora4j.optim.GradientClipping;
import io.sbora4j.optim.LrSchedule;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The training loop, over any {@link Trainable} and {@link Task}: AdamW with a learning-rate schedule, gradient accumulation, clipping of the global norm,
 * dropout masks reseeded per micro-batch, and checkpoints every {@code checkpointEvery} steps. Everything random
 * is a function of the seed and the step, so a run resumed from a checkpoint takes exactly the steps the
 * uninterrupted run would have taken. A checkpoint records the run's {@link RunIdentity}; resuming with other settings
 * is refused, naming them. A non-finite loss or gradient stops the run before the step is applied,
 * leaving the last checkpoint as it was.
 */
public final class Trainer {

    /**
     * @param checkpointDir   where checkpoints go (null: none); a run resumes from its latest checkpoint
     * @param checkpointEvery steps between checkpoints (0: only at the end)
     * @param run             what else defines the run, for its {@link RunIdentity} (steps, batch, data and model
     *                        fingerprints...): a checkpoint written with other values is not resumed
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
    }

    /** One line of progress, after a step. */
    public record Progress(
            long step,
            long totalSteps,
            double loss,
            double lr,
            double gradNorm,
            double tokensPerSecond,
            double etaSeconds) {}

    /**
     * What a run did.
     *
     * @param peakStepBytes the most host memory one micro-batch held at once, in bytes of the scope's pooled blocks
     *                      ({@link MemoryScope#peakBytes()}): its activations, temporaries and intermediate gradients
     */
    public record Result(
            List<Double> losses,
            double tokensPerSecond,
            double msPerStep,
            Optional<Path> checkpoint,
            long peakStepBytes) {}

    private final Trainable model;
    private final Config config;
    private final Task task;

    /** Trains {@code model}'s parameters on {@code task} ({@link Trainable#of} adapts an adapter or any tensors). */
    public Trainer(Trainable model, Config config, Task task) {
        if (model.parameters().isEmpty()) {
            throw new IllegalArgumentException("nothing to train: the model has no trainable parameters");
        }
        this.model = model;
        this.config = config;
        this.task = task;
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
        try (AdamW opt = new AdamW(
                List.copyOf(model.parameters().values()),
                new AdamW.Config(config.schedule().peak(), 0.9, 0.999, 1e-8, config.weightDecay()))) {
            Checkpoints checkpoints = config.checkpointDir() == null ? null : new Checkpoints(config.checkpointDir());
            RunIdentity identity = identity();
            List<Double> losses = new ArrayList<>();
            long start = 0;
            Optional<Path> last = Optional.empty();
            if (checkpoints != null) {
                Optional<Checkpoints.Found> found;
                try {
                    found = checkpoints.findLatest(warnings);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot resume: " + e.getMessage(), e);
                }
                if (found.isPresent()) {
                    Path cp = found.get().path();
                    identity.requireSameAs(found.get().state().run(), cp.toString());
                    start = found.get().state().step();
                    if (start > config.steps()) {
                        throw new IllegalArgumentException(
                                cp + " is at step " + start + ", past the " + config.steps() + " steps asked for");
                    }
                    try {
                        losses.addAll(Checkpoints.restore(cp, model, opt).losses());
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot resume from " + cp + ": " + e.getMessage(), e);
                    }
                    last = Optional.of(cp);
                }
            }
            model.train(true);
            long tokens = 0;
            long peak = 0;
            long t0 = System.nanoTime();
            for (long step = start; step < config.steps(); step++) {
                double loss = 0;
                for (int micro = 0; micro < config.gradAccumulation(); micro++) {
                    long counter = step * config.gradAccumulation() + micro;
                    model.startMicroBatch(counter ^ config.seed());
                    MemoryScope scope = MemoryScope.open();
                    try (scope) {
                        Tensor l = task.loss(step, micro);
                        float v = l.item();
                        if (!Float.isFinite(v)) {
                            throw diverged("loss is " + v, step, last);
                        }
                        loss += v / config.gradAccumulation();
                        Tensor scaled = config.gradAccumulation() == 1
                                ? l
                                : Elementwise.scale(l, 1f / config.gradAccumulation());
                        Autograd.backward(scaled);
                    }
                    peak = Math.max(peak, scope.peakBytes());
                    tokens += task.tokens(step, micro);
                }
                double norm = GradientClipping.clip(opt.parameters(), config.maxGradNorm());
                if (!Double.isFinite(norm)) {
                    throw diverged("gradient norm is " + norm, step, last);
                }
                double lr = config.schedule().at(step);
                opt.step(lr);
                opt.zeroGrad();
                losses.add(loss);
                long done = step + 1;
                double secs = (System.nanoTime() - t0) / 1e9;
                double perStep = secs / (done - start);
                progress.accept(new Progress(
                        done,
                        config.steps(),
                        loss,
                        lr,
                        norm,
                        tokens / Math.max(secs, 1e-9),
                        perStep * (config.steps() - done)));
                boolean due = config.checkpointEvery() > 0 && done % config.checkpointEvery() == 0;
                if (checkpoints != null && (due || done == config.steps())) {
                    try {
                        last = Optional.of(checkpoints.save(model, opt, new Checkpoints.State(done, identity, losses)));
                    } catch (IOException e) {
                        throw new UncheckedIOException(
                                "writing the checkpoint of step " + done + " failed: " + e.getMessage() + "; "
                                        + last.map(p -> "the last complete checkpoint is " + p)
                                                .orElse("no checkpoint was written yet"),
                                e);
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            long ran = config.steps() - start;
            return new Result(losses, tokens / Math.max(secs, 1e-9), ran == 0 ? 0 : secs * 1000 / ran, last, peak);
        }
    }

    private static TrainingDivergedException diverged(String what, long step, Optional<Path> last) {
        return new TrainingDivergedException("training diverged at step " + (step + 1) + ": " + what + "; "
                + last.map(p -> "the last good checkpoint is " + p).orElse("no checkpoint was written yet")
                + " (try a lower learning rate)");
    }
}
