package org.example.embedding;

import io.sbora4j.ops.Losses;
import io.sbora4j.optim.LrSchedule;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.train.Trainable;
import io.sbora4j.train.Trainer;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The embedding example: a frozen {@link GatedMlp} is fine-tuned with SBoRA-FA towards a teacher network, through the
 * library's public API only (inject by layer name, one {@link Trainer} over a task of our own, merge), and a second
 * named adapter (LoRA) sits beside the first, chosen by name.
 */
public final class FineTuneAndMerge {

    static final int IN = 48, HIDDEN = 96, OUT = 32, TOKENS = 64;

    /** What a run did: the loss before and after, and how far the merged network is from the adapted one. */
    public record Outcome(
            double lossBefore, double lossAfter, double mergedMaxDifference, long trainable, List<String> adapters) {}

    private FineTuneAndMerge() {}

    public static void main(String[] args) {
        Outcome o = run(300);
        System.out.printf(
                "SBoRA-FA on a gated MLP: loss %.3e -> %.3e, %d trainable parameters, adapters %s;"
                        + " merged vs adapted: max |difference| %.2e%n",
                o.lossBefore(), o.lossAfter(), o.trainable(), o.adapters(), o.mergedMaxDifference());
    }

    /** Fine-tunes for {@code steps} steps on the cpu backend (the default device), then merges. */
    public static Outcome run(int steps) {
        Device cpu = Device.CPU;
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom rng = new SplittableRandom(7);
            Tensor wg = gaussian(arena, cpu, rng, HIDDEN, IN), wu = gaussian(arena, cpu, rng, HIDDEN, IN);
            Tensor wo = gaussian(arena, cpu, rng, OUT, HIDDEN);
            GatedMlp student = new GatedMlp(wg, wu, wo);
            // The teacher differs from the student in some input columns of every layer: SBoRA-FA's kind of change.
            GatedMlp teacher =
                    new GatedMlp(perturbed(arena, wg, rng), perturbed(arena, wu, rng), perturbed(arena, wo, rng));
            Tensor x = gaussian(arena, cpu, rng, TOKENS, IN);
            Tensor target;
            try (MemoryScope scope = MemoryScope.open()) {
                target = teacher.forward(x).copyInto(arena, cpu);
            }

            AdapterConfig sbora = AdapterConfig.of(AdapterMethods.SBORA_FA, 16, 32)
                    .withTargets(List.of("gate", "up", "out"))
                    .withSeed(11);
            PeftModel<GatedMlp> peft = PeftModel.inject(student, sbora, arena);
            double before = loss(student, x, target);

            Trainer.Task task = new Trainer.Task() {
                @Override
                public Tensor loss(long step, int micro) {
                    return Losses.mse(student.forward(x), target);
                }

                @Override
                public long tokens(long step, int micro) {
                    return TOKENS;
                }
            };
            LrSchedule schedule = new LrSchedule(2e-2, steps / 10, steps, LrSchedule.Decay.COSINE);
            new Trainer(Trainable.of(peft), new Trainer.Config(steps, 1, schedule, 0, 1, 11, null, 0), task)
                    .run(p -> {});
            peft.train(false);
            double after = loss(student, x, target);

            // A second adapter beside the first, chosen by name; the first stays active.
            peft.addAdapter("lora", AdapterConfig.of(AdapterMethods.LORA, 4, 8).withTargets(List.of("out")), arena);
            peft.setActiveAdapter("default");

            float[] adapted = forward(student, x);
            long trainable = peft.report().trainable();
            peft.mergeAll();
            float[] merged = forward(student, x);
            double diff = 0;
            for (int i = 0; i < adapted.length; i++) {
                diff = Math.max(diff, Math.abs(adapted[i] - merged[i]));
            }
            return new Outcome(before, after, diff, trainable, peft.adapterNames());
        }
    }

    private static double loss(GatedMlp net, Tensor x, Tensor target) {
        try (MemoryScope scope = MemoryScope.open()) {
            return Losses.mse(net.forward(x), target).item();
        }
    }

    private static float[] forward(GatedMlp net, Tensor x) {
        try (MemoryScope scope = MemoryScope.open()) {
            return net.forward(x).toFloatArray();
        }
    }

    private static Tensor gaussian(Arena arena, Device device, SplittableRandom rng, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (2 * rng.nextGaussian() / Math.sqrt(cols));
        }
        return Tensor.of(arena, device, v, rows, cols);
    }

    /** w with six of its input columns shifted. */
    private static Tensor perturbed(Arena arena, Tensor w, SplittableRandom rng) {
        float[] v = w.toFloatArray();
        int rows = w.dim(0), cols = w.dim(1);
        for (int k = 0; k < 6; k++) {
            int c = rng.nextInt(cols);
            for (int r = 0; r < rows; r++) {
                v[r * cols + c] += (float) (0.5 * rng.nextGaussian() / Math.sqrt(cols));
            }
        }
        return Tensor.of(arena, w.device(), v, rows, cols);
    }
}
