package io.sbora4j.bench;

import com.sun.management.OperatingSystemMXBean;
import io.sbora4j.cpu.CpuBackend;
import io.sbora4j.cpu.ffi.CpuLibraries;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Experiment: the training step under each way of threading GEMMs, switched at run time in one process, one step
 * per variant in turn (A/B/C/A/B/C...), with a pause between steps so that no spinning thread of one variant runs
 * into the next. Variants: pool, callback, split (2 threads), one (split on 1 thread).
 */
public final class ThreadingAb {

    private ThreadingAb() {}

    public static void main(String[] args) throws Exception {
        String shape = args[0], method = args[1];
        int rounds = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        List<String> variants = List.of(args[4].split(","));
        long pauseMs = args.length > 5 ? Long.parseLong(args[5]) : 250;
        TrainingStepBench b = new TrainingStepBench();
        b.shape = shape;
        b.method = method;
        b.setup();
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        for (String v : variants) {
            results.put(v, new ArrayList<>());
        }
        try {
            for (int round = -2; round < rounds; round++) { // two warmup rounds
                for (int i = 0; i < variants.size(); i++) {
                    String v = variants.get(Math.floorMod(i + round, variants.size())); // rotate the order
                    apply(v, threads);
                    Thread.sleep(pauseMs);
                    long cpu0 = os.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    b.step();
                    double wall = (System.nanoTime() - t0) / 1e6;
                    double cpu = (os.getProcessCpuTime() - cpu0) / 1e6;
                    if (round >= 0) {
                        results.get(v).add(new double[] {wall, cpu});
                    }
                }
            }
        } finally {
            b.tearDown();
        }
        for (var e : results.entrySet()) {
            double[] wall =
                    e.getValue().stream().mapToDouble(x -> x[0]).sorted().toArray();
            double[] cpu = e.getValue().stream().mapToDouble(x -> x[1]).sorted().toArray();
            double sw = Arrays.stream(wall).sum(), sc = Arrays.stream(cpu).sum();
            System.out.printf(
                    Locale.ROOT,
                    "%s %s %-8s median %7.1f ms/step (q1 %7.1f, q3 %7.1f) %6.0f tokens/s | cpu median %7.1f ms/step,"
                            + " cpu/wall %.2f%n",
                    shape,
                    method,
                    e.getKey(),
                    wall[wall.length / 2],
                    wall[wall.length / 4],
                    wall[wall.length * 3 / 4],
                    b.tokensPerStep() * 1000 / wall[wall.length / 2],
                    cpu[cpu.length / 2],
                    sc / sw);
        }
    }

    private static void apply(String v, int threads) {
        switch (v) {
            case "pool" -> CpuBackend.useThreading(CpuLibraries.BlasThreading.POOL, threads);
            case "callback" -> CpuBackend.useThreading(CpuLibraries.BlasThreading.CALLBACK, threads);
            case "split" -> CpuBackend.useThreading(CpuLibraries.BlasThreading.SPLIT, threads);
            case "one" -> CpuBackend.useThreading(CpuLibraries.BlasThreading.SPLIT, 1);
            default -> throw new IllegalArgumentException(v);
        }
    }
}
