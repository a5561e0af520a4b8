package io.sbora4j.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@link TrainingStepBench#step} outside JMH, with the process's CPU time beside the wall time: the ratio says how
 * many cores the step kept busy, which shows threads spinning whatever the machine's other load. Each measured step
 * is followed by the step's GEMMs alone ({@link TrainingStepBench#gemmsOnly}), so that their share of the step is
 * taken under the same load even on a busy machine. One line per run:
 *
 * <pre>
 *   java --enable-native-access=ALL-UNNAMED -cp jmh/target/benchmarks.jar io.sbora4j.bench.StepCpuTime \
 *        tiny sbora-fa 10 3        # shape, method, measured steps, warmup steps
 * </pre>
 *
 * The thread count is the benchmarks' knob ({@code -Dsbora.bench.threads=N}); CPU time is the whole process's
 * (JIT and GC threads included: after the warmup steps they are nearly idle).
 */
public final class StepCpuTime {

    private StepCpuTime() {}

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: StepCpuTime SHAPE METHOD [STEPS [WARMUP]]");
            System.exit(2);
        }
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        TrainingStepBench b = new TrainingStepBench();
        b.shape = args[0];
        b.method = args[1];
        b.setup();
        try {
            for (int i = 0; i < warmup; i++) {
                b.step();
                b.gemmsOnly();
            }
            OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            double[] ms = new double[steps], gemmMs = new double[steps];
            double wall = 0, cpu = 0;
            for (int i = 0; i < steps; i++) {
                long c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
                b.step();
                long t1 = System.nanoTime();
                cpu += (os.getProcessCpuTime() - c0) / 1e9;
                wall += (t1 - t0) / 1e9;
                ms[i] = (t1 - t0) / 1e6;
                long g0 = System.nanoTime();
                b.gemmsOnly();
                gemmMs[i] = (System.nanoTime() - g0) / 1e6;
            }
            Arrays.sort(ms);
            Arrays.sort(gemmMs);
            double mean = wall * 1000 / steps;
            System.out.printf(
                    Locale.ROOT,
                    "%s %s threads=%s loss=%.5f: %.1f ms/step (median %.1f, min %.1f, max %.1f), %.0f tokens/s, cpu %.0f"
                            + " ms/step, cpu/wall %.2f cores; GEMMs alone median %.1f ms = %.0f%% of the step%n",
                    b.shape,
                    b.method,
                    System.getProperty(BenchTensors.THREADS_PROPERTY, "all"),
                    b.lastLoss,
                    mean,
                    ms[steps / 2],
                    ms[0],
                    ms[steps - 1],
                    b.tokensPerStep() * 1000 / mean,
                    cpu * 1000 / steps,
                    cpu / wall,
                    gemmMs[steps / 2],
                    100 * gemmMs[steps / 2] / ms[steps / 2]);
        } finally {
            b.tearDown();
        }
    }
}
