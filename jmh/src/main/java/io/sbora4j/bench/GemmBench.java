package io.sbora4j.bench;

import io.sbora4j.cpu.ffi.cblas_h;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * The hardware and BLAS limit of a frozen layer's step: the two {@code cblas_sgemm} calls of
 * {@code AdapterLayerBench} with {@code method=base}, straight into pre-allocated buffers, with no tensors,
 * autograd, allocation or checks around them.
 *
 * <pre>
 *   y  = x · Wᵀ    (tokens x d)   forward
 *   dx = dy · W    (tokens x d)   backward to the input (W is frozen: no dW)
 * </pre>
 * Each invocation does 2 · 2·tokens·d² flops; the report turns that into GFLOP/s.
 *
 * <p>The library runs OpenBLAS single-threaded and cuts its GEMMs into tiles on its own OpenMP team; this benchmark
 * gives OpenBLAS back its own thread pool ({@value BenchTensors#THREADS_PROPERTY} threads, or one per core) for its
 * trial, so that it measures what a program calling OpenBLAS alone gets.
 *
 * <p>{@code io.sbora4j.ffi} is not exported by the library's module, but the benchmarks run on the class path
 * (the uber jar), where every package is readable.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
public class GemmBench {

    @Param({"2048", "4096"})
    public int d;

    @Param({"1024"})
    public int tokens;

    private Arena arena;
    private MemorySegment w;
    private MemorySegment x;
    private MemorySegment dy;
    private MemorySegment y;
    private MemorySegment dx;

    @Setup(Level.Trial)
    public void setup() {
        BenchTensors.device("cpu"); // opens OpenBLAS (and applies the thread knob) before the first measured call
        cblas_h.openblas_set_num_threads(Integer.getInteger(
                BenchTensors.THREADS_PROPERTY, Runtime.getRuntime().availableProcessors()));
        arena = Arena.ofShared();
        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
        // Tensors only for their allocation: same 64-byte alignment and the same data as the layer benchmark.
        w = BenchTensors.gaussian(arena, rng, 1 / Math.sqrt(d), d, d).data();
        x = BenchTensors.gaussian(arena, rng, 1, tokens, d).data();
        dy = BenchTensors.gaussian(arena, rng, 1, tokens, d).data();
        y = Tensor.empty(arena, Device.CPU, DType.F32, tokens, d).data();
        dx = Tensor.empty(arena, Device.CPU, DType.F32, tokens, d).data();
    }

    @Benchmark
    public float forwardBackwardGemms() {
        cblas_h.cblas_sgemm(
                cblas_h.CblasRowMajor,
                cblas_h.CblasNoTrans,
                cblas_h.CblasTrans,
                tokens,
                d,
                d,
                1f,
                x,
                d,
                w,
                d,
                0f,
                y,
                d);
        cblas_h.cblas_sgemm(
                cblas_h.CblasRowMajor,
                cblas_h.CblasNoTrans,
                cblas_h.CblasNoTrans,
                tokens,
                d,
                d,
                1f,
                dy,
                d,
                w,
                d,
                0f,
                dx,
                d);
        return y.getAtIndex(ValueLayout.JAVA_FLOAT, 0) + dx.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cblas_h.openblas_set_num_threads(1); // the library's setting
        arena.close();
    }

    // For the tests.
    MemorySegment[] buffers() {
        return new MemorySegment[] {w, x, dy, y, dx};
    }
}
