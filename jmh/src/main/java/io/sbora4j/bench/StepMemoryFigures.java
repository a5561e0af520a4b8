package io.sbora4j.bench;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.autograd.Node;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.ops.Losses;
import io.sbora4j.ops.MatMul;
import io.sbora4j.optim.AdamW;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The memory and time of a training step, for docs/ARCHITECTURE.md ("Fused block ops and the chunked loss"). Not a
 * JMH benchmark: allocation bytes are exact (every tensor of a step lives in its {@link MemoryScope}, freed when the
 * step ends, so {@link MemoryScope#bytesAllocated()} is the step's activation and temporary memory), and times are a
 * median of plain repetitions, to compare runs made side by side.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp jmh/target/benchmarks.jar io.sbora4j.bench.StepMemoryFigures step [steps] [full-loss]
 * java --enable-native-access=ALL-UNNAMED -cp jmh/target/benchmarks.jar io.sbora4j.bench.StepMemoryFigures loss VOCAB [TOKENS] [HIDDEN]
 * </pre>
 *
 * {@code step}: the tiny LLaMA (hidden 512, intermediate 1376, 4 layers, 8 / 4 heads, vocab 320, batch 8 x 128)
 * with SBoRA-FA r = 16 on all seven projections of every block, on the cpu backend: forward, loss, backward, AdamW.
 * The loss is {@code LlamaModel.loss} where the model has it, or with {@code full-loss} (and in builds before it) the
 * cross-entropy of the full logits. {@code loss}: the head GEMM and cross-entropy alone over {@code TOKENS} rows of
 * hidden states (default 4096 x 512) and a frozen head of {@code VOCAB} rows, full logits against chunks. The model
 * loss is looked up by reflection, so that this one file also runs, as a source file, against a build without it.
 */
public final class StepMemoryFigures {

    private StepMemoryFigures() {}

    private static final boolean BREAKDOWN = Boolean.getBoolean("figures.breakdown");

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "step";
        if (mode.equals("step")) {
            int steps = args.length > 1 ? Integer.parseInt(args[1]) : 10;
            boolean fullLoss = Arrays.asList(args).contains("full-loss");
            step(steps, fullLoss);
        } else if (mode.equals("loss")) {
            int vocab = Integer.parseInt(args[1]);
            int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 4096;
            int hidden = args.length > 3 ? Integer.parseInt(args[3]) : 512;
            loss(vocab, tokens, hidden);
        } else {
            throw new IllegalArgumentException("mode must be step or loss, not " + mode);
        }
    }

    /** One step's figures: bytes allocated in its scope (all, and up to the end of the forward), saved bytes, ms. */
    record StepFigures(long bytes, long forwardBytes, long savedBytes, double ms, double cpuMs, float loss) {}

    /** CPU time of the whole process (all threads) in ns: under a shared machine's load, steadier than wall time. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    static void step(int steps, boolean fullLoss) throws Exception {
        Device dev = Device.CPU;
        LlamaConfig cfg = new LlamaConfig(320, 512, 1376, 4, 8, 4, 1e-5, 10000, 128, false);
        int batch = 8, seq = 128, n = batch * seq;
        Method modelLoss = fullLoss ? null : modelLoss();
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel model = LlamaModel.random(cfg, 42, dev, arena);
            List<Tensor> trainable = PeftModel.inject(model, AdapterConfig.of(AdapterMethods.SBORA_FA, 16, 32), arena)
                    .trainable();
            SplittableRandom rng = new SplittableRandom(42);
            int[] tokens = new int[n + 1];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = rng.nextInt(cfg.vocabSize());
            }
            Tensor ids = Tensor.ofInts(arena, dev, Arrays.copyOf(tokens, n), batch, seq);
            Tensor targets = Tensor.ofInts(arena, dev, Arrays.copyOfRange(tokens, 1, n + 1), n);
            System.out.printf(
                    Locale.ROOT,
                    "step: tiny LLaMA, sbora-fa r=16, batch %dx%d, loss %s, %d threads%n",
                    batch,
                    seq,
                    modelLoss != null ? "LlamaModel.loss (chunked)" : "crossEntropy(logits)",
                    Runtime.getRuntime().availableProcessors());
            try (AdamW opt = new AdamW(trainable, AdamW.Config.lr(1e-4))) {
                int warmup = 3;
                double[] ms = new double[steps], cpu = new double[steps];
                StepFigures last = null;
                for (int s = 0; s < warmup + steps; s++) {
                    last = oneStep(model, ids, targets, modelLoss, opt);
                    if (s >= warmup) {
                        ms[s - warmup] = last.ms();
                        cpu[s - warmup] = last.cpuMs();
                    }
                }
                Arrays.sort(ms);
                Arrays.sort(cpu);
                System.out.printf(
                        Locale.ROOT,
                        "  bytes allocated in the step's scope: %d (%.2f MiB); by the end of the forward: %d (%.2f"
                                + " MiB); saved for backward: %d (%.2f MiB)%n",
                        last.bytes(),
                        last.bytes() / 1048576.0,
                        last.forwardBytes(),
                        last.forwardBytes() / 1048576.0,
                        last.savedBytes(),
                        last.savedBytes() / 1048576.0);
                System.out.printf(
                        Locale.ROOT,
                        "  ms per step over %d steps: median %.1f, min %.1f, max %.1f; CPU ms (all threads): median"
                                + " %.1f, min %.1f (loss %.5f)%n",
                        steps,
                        ms[steps / 2],
                        ms[0],
                        ms[steps - 1],
                        cpu[steps / 2],
                        cpu[0],
                        last.loss());
            }
        }
    }

    private static StepFigures oneStep(LlamaModel model, Tensor ids, Tensor targets, Method modelLoss, AdamW opt)
            throws Exception {
        long t0 = System.nanoTime(), c0 = cpuNanos();
        long bytes, forwardBytes, saved = 0;
        float value;
        try (MemoryScope step = MemoryScope.open()) {
            Tensor loss = modelLoss != null
                    ? (Tensor) modelLoss.invoke(model, ids, targets, -100)
                    : Losses.crossEntropy(model.logits(ids), targets, -100);
            value = loss.item();
            forwardBytes = step.bytesAllocated();
            for (Node node : Autograd.nodes(loss)) {
                saved += node.savedBytes();
                if (BREAKDOWN) {
                    System.out.printf(Locale.ROOT, "    %-20s saves %d%n", node.name(), node.savedBytes());
                }
            }
            Autograd.backward(loss);
            bytes = step.bytesAllocated();
        }
        opt.step();
        opt.zeroGrad();
        Backends.of(model.device()).synchronize();
        return new StepFigures(
                bytes, forwardBytes, saved, (System.nanoTime() - t0) / 1e6, (cpuNanos() - c0) / 1e6, value);
    }

    /** {@code LlamaModel.loss(ids, targets, ignoreIndex)}, or null in a build without it. */
    private static Method modelLoss() {
        try {
            return LlamaModel.class.getMethod("loss", Tensor.class, Tensor.class, int.class);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    static void loss(int vocab, int tokens, int hidden) throws Exception {
        Device dev = Device.CPU;
        SplittableRandom rng = new SplittableRandom(7);
        try (Arena arena = Arena.ofConfined()) {
            Tensor head = Tensor.of(arena, dev, floats(rng, (long) vocab * hidden, 0.02f), vocab, hidden);
            Tensor h = Tensor.of(arena, dev, floats(rng, (long) tokens * hidden, 1f), tokens, hidden)
                    .requiresGrad(true);
            int[] t = new int[tokens];
            for (int i = 0; i < tokens; i++) {
                t[i] = rng.nextInt(vocab);
            }
            Tensor targets = Tensor.ofInts(arena, dev, t, tokens);
            Method rows = LlamaModel.class.getMethod("lossChunkRows", int.class, long.class);
            int chunk = (int) rows.invoke(null, vocab, (long) tokens);
            Method chunked = Losses.class.getMethod(
                    "linearCrossEntropy", Tensor.class, Tensor.class, Tensor.class, int.class, int.class);
            System.out.printf(
                    Locale.ROOT,
                    "loss: %d tokens x hidden %d, vocab %d (logits %.1f MiB), chunks of %d rows (%.1f MiB)%n",
                    tokens,
                    hidden,
                    vocab,
                    4.0 * tokens * vocab / 1048576,
                    chunk,
                    4.0 * chunk * vocab / 1048576);
            for (String which : List.of("full", "chunked", "full", "chunked")) {
                h.setGrad(null);
                long t0 = System.nanoTime(), c0 = cpuNanos();
                long bytes;
                float value;
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor loss = which.equals("full")
                            ? Losses.crossEntropy(MatMul.matmul(h, false, head, true), targets, -100)
                            : (Tensor) chunked.invoke(null, h, head, targets, -100, chunk);
                    value = loss.item();
                    Autograd.backward(loss);
                    bytes = scope.bytesAllocated();
                }
                System.out.printf(
                        Locale.ROOT,
                        "  %-7s loss %.5f, bytes allocated in the scope %d (%.1f MiB), forward + backward %.1f s"
                                + " (CPU %.1f s)%n",
                        which,
                        value,
                        bytes,
                        bytes / 1048576.0,
                        (System.nanoTime() - t0) / 1e9,
                        (cpuNanos() - c0) / 1e9);
            }
        }
    }

    private static float[] floats(SplittableRandom rng, long n, float scale) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * scale);
        }
        return v;
    }
}
