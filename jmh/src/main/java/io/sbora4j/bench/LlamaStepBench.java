package io.sbora4j.bench;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.ops.Losses;
import io.sbora4j.optim.AdamW;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One training step of a small LLaMA with SBoRA-FA adapters on every projection: forward, cross-entropy,
 * backward and an AdamW update, with the projections in f32 or in bf16 ({@link LlamaModel#useBf16Projections}:
 * bf16 weights and GEMMs, f32 accumulation, everything else f32). The default shape: hidden 512, intermediate 1376,
 * 4 layers, 8 query / 4 key-value heads, vocabulary 320, a batch of 8 sequences of 128 tokens, r = 16.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
public class LlamaStepBench {

    /** Type of the projections: f32, or bf16 (factors, norms, attention and the head stay f32). */
    @Param({"f32", "bf16"})
    public String dtype;

    @Param({"512"})
    public int hidden;

    @Param({"1376"})
    public int intermediate;

    @Param({"4"})
    public int layers;

    @Param({"8"})
    public int batch;

    @Param({"128"})
    public int seq;

    @Param({"16"})
    public int r;

    static final int VOCAB = 320;

    private Arena arena;
    private PeftModel<LlamaModel> peft;
    private AdamW opt;
    private Tensor ids;
    private Tensor targets;

    @Setup(Level.Trial)
    public void setup() {
        Device dev = BenchTensors.device("cpu");
        arena = Arena.ofShared();
        LlamaConfig cfg = new LlamaConfig(VOCAB, hidden, intermediate, layers, 8, 4, 1e-5, 10000, seq, false);
        LlamaModel model = LlamaModel.random(cfg, BenchTensors.SEED, dev, arena);
        if (BenchTensors.dtype(dtype) == DType.BF16) {
            model.useBf16Projections(arena);
        }
        peft = PeftModel.inject(model, AdapterConfig.of(AdapterMethods.SBORA_FA, r, 2.0 * r), arena);
        opt = new AdamW(peft.trainable(), AdamW.Config.lr(1e-4));
        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
        int[] tok = new int[batch * seq], next = new int[batch * seq];
        for (int i = 0; i < tok.length; i++) {
            tok[i] = rng.nextInt(VOCAB);
        }
        for (int i = 0; i < tok.length; i++) {
            next[i] = (i + 1) % seq == 0 ? -100 : tok[i + 1];
        }
        ids = Tensor.ofInts(arena, dev, tok, batch, seq);
        targets = Tensor.ofInts(arena, dev, next, batch * seq);
    }

    /** Forward, loss, backward and one AdamW step; returns the loss. */
    @Benchmark
    @SuppressWarnings("try")
    public float trainStep() {
        float loss;
        try (MemoryScope step = MemoryScope.open()) {
            Tensor l = Losses.crossEntropy(peft.model().logits(ids), targets, -100);
            loss = l.item();
            Autograd.backward(l);
        }
        opt.step();
        opt.zeroGrad();
        return loss;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        opt.close();
        arena.close();
    }
}
