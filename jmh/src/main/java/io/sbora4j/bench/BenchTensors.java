package io.sbora4j.bench;

import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * What every benchmark's setup shares: seeded random host tensors and the one knob for native threads.
 *
 * <p>Values are Gaussian rather than uniform or constant so that no kernel can profit from special data (zeros,
 * repeated values); the seed is fixed so that every fork measures the same numbers.
 */
public final class BenchTensors {

    /** System property naming the native thread count; unset means the CPU backend's default, all cores. */
    public static final String THREADS_PROPERTY = "sbora.bench.threads";

    /** The seed of every benchmark's data. */
    public static final long SEED = 42;

    private BenchTensors() {}

    /** A (dims) f32 CPU tensor of N(0, std²) values owned by {@code arena}. */
    public static Tensor gaussian(Arena arena, SplittableRandom rng, double std, int... dims) {
        return gaussian(arena, Device.CPU, rng, std, dims);
    }

    /** A (dims) f32 tensor of N(0, std²) values on {@code device}, owned by {@code arena}. */
    public static Tensor gaussian(Arena arena, Device device, SplittableRandom rng, double std, int... dims) {
        return gaussian(arena, device, DType.F32, rng, std, dims);
    }

    /** A (dims) tensor of N(0, std²) values of {@code type} (f32 or bf16, rounded) on {@code device}. */
    public static Tensor gaussian(
            Arena arena, Device device, DType type, SplittableRandom rng, double std, int... dims) {
        long n = 1;
        for (int dim : dims) {
            n *= dim;
        }
        return Tensor.of(arena, device, type, gaussian(rng, Math.toIntExact(n), std), dims);
    }

    /** Parses a {@code dtype} benchmark parameter: {@code f32} or {@code bf16}. */
    public static DType dtype(String name) {
        return switch (name) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            default -> throw new IllegalArgumentException("dtype must be f32 or bf16, not '" + name + "'");
        };
    }

    /** Overwrites an f32 host tensor with N(0, std²) values. */
    public static void fillGaussian(Tensor t, SplittableRandom rng, double std) {
        t.copyFrom(gaussian(rng, Math.toIntExact(t.numel()), std));
    }

    /**
     * The device a benchmark runs on: the default device named {@code name}, or one of its own when
     * {@value #THREADS_PROPERTY} is set (e.g. {@code -jvmArgsAppend -Dsbora.bench.threads=8}) or {@code route} is
     * {@code fused} or {@code unfused} (the SBoRA GEMM route, {@link BackendOptions.SboraGemms}). Its backend is
     * opened here, so that no measured call pays for loading the native libraries. Left unset, GEMMs and kernels
     * use all cores, which is what the targets are stated for.
     */
    public static Device device(String name, String route) {
        BackendOptions o = BackendOptions.DEFAULTS;
        Integer threads = Integer.getInteger(THREADS_PROPERTY);
        if (threads != null) {
            o = o.withThreads(threads);
        }
        o = o.withSboraGemms(
                switch (route) {
                    case "auto" -> BackendOptions.SboraGemms.AUTO;
                    case "fused" -> BackendOptions.SboraGemms.FUSED;
                    case "unfused" -> BackendOptions.SboraGemms.UNFUSED;
                    default ->
                        throw new IllegalArgumentException("route must be auto, fused or unfused, not '" + route + "'");
                });
        return Backends.open(name, o).device();
    }

    /** {@link #device(String, String)} with the backend's own choice of SBoRA route. */
    public static Device device(String name) {
        return device(name, "auto");
    }

    private static float[] gaussian(SplittableRandom rng, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextGaussian() * std);
        }
        return v;
    }
}
