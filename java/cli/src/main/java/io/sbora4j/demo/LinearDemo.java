package io.sbora4j.demo;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.autograd.Node;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.Linear;
import io.sbora4j.ops.Losses;
import io.sbora4j.optim.LrSchedule;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.train.Trainable;
import io.sbora4j.train.Trainer;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A small, real demonstration of every adapter method on one linear layer: a frozen weight W, a teacher
 * W* = W + ΔW* with a low-rank ΔW*, and each method trained by AdamW to match the teacher's outputs on fresh random
 * inputs (mean squared error). Reports what the paper compares: trainable parameters, the loss reached, the cost
 * of a step, how much of W a merge touches, and the activation bytes each method keeps for its backward pass.
 */
public final class LinearDemo {

    private LinearDemo() {}

    /** The knobs of the demo; {@link #defaults()} runs in seconds on two cores. */
    public record Options(
            Device device,
            int dim,
            int tokens,
            int rank,
            double alpha,
            int steps,
            double lr,
            int teacherRank,
            long seed) {

        public Options {
            if (dim < 2 || tokens < 1 || rank < 1 || rank > dim || steps < 1 || teacherRank < 1) {
                throw new IllegalArgumentException("demo options out of range: dim=" + dim + " tokens=" + tokens
                        + " rank=" + rank + " steps=" + steps + " teacherRank=" + teacherRank);
            }
        }

        public static Options defaults() {
            return new Options(Backends.defaultDevice(), 256, 256, 8, 16, 300, 5e-3, 4, 42);
        }
    }

    /** One line of the result table. */
    public record Row(
            String label,
            AdapterMethod method,
            int rank,
            long trainableParams,
            double initialLoss,
            double finalLoss,
            double msPerStep,
            int columnsChanged,
            int rowsChanged,
            long elementsChanged,
            double mergeMaxAbsDiff,
            long savedActivationBytes) {}

    /** The methods and ranks the demo compares: each method at r, and SBoRA-FA at 2r (LoRA's parameter budget). */
    public static List<Object[]> plan(int r) {
        return List.of(
                new Object[] {AdapterMethods.LORA, r},
                new Object[] {AdapterMethods.LORA_FA, r},
                new Object[] {AdapterMethods.DORA, r},
                new Object[] {AdapterMethods.SBORA_FA, r},
                new Object[] {AdapterMethods.SBORA_FB, r},
                new Object[] {AdapterMethods.SBORA_FA, 2 * r});
    }

    public static List<Row> run(Options o, Consumer<String> progress) {
        List<Row> rows = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom rng = new SplittableRandom(o.seed());
            Tensor w = Tensor.of(
                            arena,
                            o.device(),
                            gaussian(rng, o.dim() * o.dim(), 1 / Math.sqrt(o.dim())),
                            o.dim(),
                            o.dim())
                    .named("layer.weight");
            Tensor teacher = teacher(arena, o, w, rng);
            for (Object[] p : plan(o.rank())) {
                AdapterMethod m = (AdapterMethod) p[0];
                int r = Math.min((Integer) p[1], o.dim());
                progress.accept("training " + m + " r=" + r);
                rows.add(train(o, w, teacher, m, r));
            }
        }
        return rows;
    }

    private static Tensor teacher(Arena arena, Options o, Tensor w, SplittableRandom rng) {
        int d = o.dim(), k = o.teacherRank();
        Tensor u = Tensor.of(arena, o.device(), gaussian(rng, d * k, 0.5 / Math.sqrt(k)), d, k);
        Tensor v = Tensor.of(arena, o.device(), gaussian(rng, k * d, 1 / Math.sqrt(d)), k, d);
        Tensor t = w.copyInto(arena, o.device());
        Backends.of(o.device()).gemm(false, false, 1f, u, v, 1f, t);
        return t;
    }

    private static Row train(Options o, Tensor w0, Tensor teacher, AdapterMethod method, int r) {
        Backend be = Backends.of(o.device());
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = w0.copyInto(arena, o.device()).named("layer.weight");
            AdapterConfig cfg = AdapterConfig.of(method, r, o.alpha()).withSeed(o.seed());
            AdaptedLinear layer = AdaptedLinear.attach(new Linear("layer", w), cfg, arena);
            SplittableRandom data = new SplittableRandom(o.seed() + 1);
            double initial = evalLoss(o, layer, teacher, new SplittableRandom(o.seed() + 2));
            long[] savedBytes = {0};
            Trainer.Task task = new Trainer.Task() {
                @Override
                public Tensor loss(long step, int micro) {
                    Tensor x = Tensor.of(o.device(), gaussian(data, o.tokens() * o.dim(), 1), o.tokens(), o.dim());
                    Tensor target = Tensor.empty(o.device(), x.dtype(), o.tokens(), o.dim());
                    be.gemm(false, true, 1f, x, teacher, 0f, target);
                    Tensor y = layer.forward(x);
                    savedBytes[0] = ((Node) y.gradFn()).savedBytes();
                    return Losses.mse(y, target);
                }

                @Override
                public long tokens(long step, int micro) {
                    return o.tokens();
                }
            };
            // The first steps warm up the JIT and the caches: the time per step counts from the sixth.
            int warm = Math.min(5, o.steps() - 1);
            long[] start = {System.nanoTime()};
            Trainer.Config tc =
                    new Trainer.Config(o.steps(), 1, LrSchedule.constant(o.lr(), o.steps()), 0, 0, o.seed(), null, 0);
            new Trainer(Trainable.of(named(layer)), tc, task).run(p -> {
                if (p.step() == warm) {
                    start[0] = System.nanoTime();
                }
            });
            double ms = (System.nanoTime() - start[0]) / 1e6 / Math.max(1, o.steps() - warm);
            double fin = evalLoss(o, layer, teacher, new SplittableRandom(o.seed() + 2));
            return merged(o, layer, w0, method, r, initial, fin, ms, savedBytes[0]);
        }
    }

    /** The layer's trainable tensors by name, for the trainer. */
    private static Map<String, Tensor> named(AdaptedLinear layer) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Tensor t : layer.trainable()) {
            m.put(t.name(), t);
        }
        return m;
    }

    private static Row merged(
            Options o,
            AdaptedLinear layer,
            Tensor w0,
            AdapterMethod method,
            int r,
            double initial,
            double fin,
            double ms,
            long savedBytes) {
        try (MemoryScope ignored = MemoryScope.open();
                NoGrad ng = NoGrad.enter()) {
            Tensor x =
                    Tensor.of(o.device(), gaussian(new SplittableRandom(o.seed() + 3), 16 * o.dim(), 1), 16, o.dim());
            layer.train(false);
            float[] before = layer.forward(x).toFloatArray();
            layer.merge();
            float[] after = layer.forward(x).toFloatArray();
            double maxDiff = 0;
            for (int i = 0; i < before.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(before[i] - after[i]));
            }
            float[] orig = w0.toFloatArray();
            float[] now = layer.base().denseWeight().toFloatArray();
            int d = o.dim();
            boolean[] col = new boolean[d], row = new boolean[d];
            long changed = 0;
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    if (Float.floatToRawIntBits(orig[i * d + j]) != Float.floatToRawIntBits(now[i * d + j])) {
                        changed++;
                        row[i] = true;
                        col[j] = true;
                    }
                }
            }
            String label = method + " r=" + r;
            return new Row(
                    label,
                    method,
                    r,
                    layer.adapter().trainableCount(),
                    initial,
                    fin,
                    ms,
                    count(col),
                    count(row),
                    changed,
                    maxDiff,
                    savedBytes);
        }
    }

    private static int count(boolean[] b) {
        int n = 0;
        for (boolean v : b) {
            n += v ? 1 : 0;
        }
        return n;
    }

    private static double evalLoss(Options o, AdaptedLinear layer, Tensor teacher, SplittableRandom rng) {
        try (MemoryScope ignored = MemoryScope.open();
                NoGrad ng = NoGrad.enter()) {
            layer.train(false);
            Tensor x = Tensor.of(o.device(), gaussian(rng, 4 * o.tokens() * o.dim(), 1), 4 * o.tokens(), o.dim());
            Tensor target = Tensor.empty(o.device(), x.dtype(), 4 * o.tokens(), o.dim());
            Backends.of(o.device()).gemm(false, true, 1f, x, teacher, 0f, target);
            double loss = Losses.mse(layer.forward(x), target).item();
            layer.train(true);
            return loss;
        }
    }

    private static float[] gaussian(SplittableRandom rng, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextGaussian() * std);
        }
        return v;
    }
}
