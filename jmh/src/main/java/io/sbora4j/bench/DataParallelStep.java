package io.sbora4j.bench;

import io.sbora4j.data.SftData;
import io.sbora4j.dist.Communicator;
import io.sbora4j.mpi.Mpi;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.ops.Losses;
import io.sbora4j.optim.LrSchedule;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.train.Trainable;
import io.sbora4j.train.Trainer;
import java.lang.foreign.Arena;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Data-parallel training steps of {@link TrainingStepBench}'s shapes through the real {@link Trainer}: one process,
 * or one rank of an MPI job when started by {@code mpirun}, on the same global batch (the shape's batch, split over
 * the ranks). Rank 0 prints one line: tokens/s of all ranks, ms per step, and the step's time in collectives.
 *
 * <pre>
 *   java -Dsbora.bench.threads=2 ... -cp jmh/target/benchmarks.jar io.sbora4j.bench.DataParallelStep tiny lora 10 3
 *   mpirun -np 2 java -Dsbora.bench.threads=1 ... io.sbora4j.bench.DataParallelStep tiny lora 10 3
 * </pre>
 *
 * The data are random token ids drawn from the global sequence index, so every rank count trains on the same
 * sequences; every target is supervised, so ranks weigh equally.
 */
public final class DataParallelStep {

    private DataParallelStep() {}

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: DataParallelStep SHAPE METHOD [STEPS [WARMUP]]");
            System.exit(2);
        }
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        Communicator comm = Mpi.launched() ? Mpi.world() : Communicator.single();
        try {
            run(comm, args[0], args[1], steps, warmup);
        } catch (RuntimeException | Error e) {
            comm.abort(1, "DataParallelStep failed: " + e);
        }
        comm.close();
    }

    private static void run(Communicator comm, String shapeName, String method, int steps, int warmup) {
        TrainingStepBench.StepShape shape = TrainingStepBench.StepShape.of(shapeName);
        LlamaConfig cfg = shape.config();
        int ranks = comm.size();
        if (shape.batch() % ranks != 0) {
            throw new IllegalArgumentException("the global batch " + shape.batch() + " does not split over " + ranks);
        }
        int perRank = shape.batch() / ranks, seq = shape.seq();
        Device dev = BenchTensors.device("cpu");
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel model = LlamaModel.random(cfg, BenchTensors.SEED, dev, arena);
            PeftModel<LlamaModel> peft =
                    PeftModel.inject(model, AdapterConfig.of(AdapterMethods.of(method), 16, 32), arena);
            Trainer.Task task = new Trainer.Task() {
                @Override
                public Tensor loss(long step, int micro) {
                    int[] in = new int[perRank * seq], next = new int[perRank * seq];
                    for (int b = 0; b < perRank; b++) {
                        long sequence = step * shape.batch() + (long) comm.rank() * perRank + b;
                        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED ^ sequence * 0x9E3779B97F4A7C15L);
                        int prev = rng.nextInt(cfg.vocabSize());
                        for (int t = 0; t < seq; t++) {
                            int tok = rng.nextInt(cfg.vocabSize());
                            in[b * seq + t] = prev;
                            next[b * seq + t] = tok;
                            prev = tok;
                        }
                    }
                    Tensor ids = Tensor.ofInts(dev, in, perRank, seq);
                    Tensor targets = Tensor.ofInts(dev, next, perRank * seq);
                    return Losses.crossEntropy(model.logits(ids), targets, SftData.IGNORE);
                }

                @Override
                public long tokens(long step, int micro) {
                    return (long) perRank * seq;
                }
            };
            Trainer.Result warm = train(comm, peft, task, warmup);
            Trainer.Result res = train(comm, peft, task, steps);
            if (comm.rank() == 0) {
                System.out.printf(
                        Locale.ROOT,
                        "shape=%s method=%s ranks=%d threads=%s batch=%dx%d tokens/s=%.0f ms/step=%.1f"
                                + " allreduce_ms/step=%.2f allreduce_share=%.1f%% loss=%.4f warmup_ms/step=%.1f%n",
                        shapeName,
                        method,
                        ranks,
                        Integer.getInteger(BenchTensors.THREADS_PROPERTY, 0),
                        ranks,
                        perRank,
                        res.tokensPerSecond(),
                        res.msPerStep(),
                        res.allReduceMillisPerStep(),
                        100 * res.allReduceMillisPerStep() / res.msPerStep(),
                        res.losses().getLast(),
                        warm.msPerStep());
            }
        }
    }

    private static Trainer.Result train(Communicator comm, PeftModel<?> peft, Trainer.Task task, int steps) {
        Trainer.Config config =
                new Trainer.Config(steps, 1, LrSchedule.constant(1e-4, steps), 0, 1.0, BenchTensors.SEED, null, 0);
        return new Trainer(Trainable.of(peft), config, task, comm).run(p -> {});
    }
}
