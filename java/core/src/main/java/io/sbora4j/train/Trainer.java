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
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The training loop, over any {@link Trainable} and {@link Task}: AdamW with a learning-rate schedule, gradient accumulation, clipping of the global norm,
 * dropout masks reseeded per micro-batch, and checkpoints every {@code checkpointEvery} steps. Everything random
 * is a function of the seed and the step, so a run resumed from a checkpoint takes exactly the steps the
 * uninterrupted run would have taken. A non-finite loss or gradient stops the run before the step is applied,
 * leaving the last checkpoint as it was.
 */
public final class Trainer {

    /**
     * @param checkpointDir   where checkpoints go (null: none); a run resumes from its latest checkpoint
     * @param checkpointEvery steps between checkpoints (0: only at the end)
     */
    public record Config(
            int steps,
            int gradAccumulation,
            LrSchedule schedule,
            double weightDecay,
            double maxGradNorm,
            long seed,
            Path checkpointDir,
            int checkpointEvery) {

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

    /** Trains until {@code config.steps()} steps are done, starting from the latest checkpoint if there is one. */
    public Result run(Consumer<Progress> progress) {
        try (AdamW opt = new AdamW(
                List.copyOf(model.parameters().values()),
                new AdamW.Config(config.schedule().peak(), 0.9, 0.999, 1e-8, config.weightDecay()))) {
            Checkpoints checkpoints = config.checkpointDir() == null ? null : new Checkpoints(config.checkpointDir());
            List<Double> losses = new ArrayList<>();
            long start = 0;
            Optional<Path> last = Optional.empty();
            if (checkpoints != null) {
                last = checkpoints.latest();
                if (last.isPresent()) {
                    Checkpoints.State s = Checkpoints.restore(last.get(), model, opt);
                    if (s.seed() != config.seed()) {
                        throw new IllegalArgumentException(
                                last.get() + " was written by a run with seed " + s.seed() + ", not " + config.seed());
                    }
                    start = s.step();
                    if (start > config.steps()) {
                        throw new IllegalArgumentException(last.get() + " is at step " + start + ", past the "
                                + config.steps() + " steps asked for");
                    }
                    losses.addAll(s.losses());
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
                    last = Optional.of(
                            checkpoints.save(model, opt, new Checkpoints.State(done, config.seed(), losses)));
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            long ran = config.steps() - start;
            return new Result(losses, tokens / Math.max(secs, 1e-9), ran == 0 ? 0 : secs * 1000 / ran, last, peak);
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint I/O failed: " + e.getMessage(), e);
        }
    }

    private static TrainingDivergedException diverged(String what, long step, Optional<Path> last) {
        return new TrainingDivergedException("training diverged at step " + (step + 1) + ": " + what + "; "
                + last.map(p -> "the last good checkpoint is " + p).orElse("no checkpoint was written yet")
                + " (try a lower learning rate)");
    }
}
