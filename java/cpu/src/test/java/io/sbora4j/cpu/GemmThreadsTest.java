package io.sbora4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.Backends;
import io.sbora4j.cpu.ffi.cblas_h;
import io.sbora4j.cpu.ffi.sbora_native_h;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * GEMMs cut into tiles, one per thread of the calling backend's count, against the reference backend: shapes large
 * enough to be split, tall, wide and square (bands of rows, of columns, a grid), every transpose, thread counts that
 * do and do not divide the sides. And the thread count is each backend's own, per call, from one thread or several.
 */
class GemmThreadsTest {

    private static final Backend REF = Backends.of(Device.REFERENCE);

    private static Backend cpu(int threads) {
        return Backends.open("cpu", BackendOptions.DEFAULTS.withThreads(threads));
    }

    /** c = 0.75·op(a)·op(b) + 0.5·c on {@code be}, checked against the reference backend. */
    private static void assertGemmMatches(
            Backend be, int m, int n, int k, boolean ta, boolean tb, long seed, String what) {
        SplittableRandom rng = new SplittableRandom(seed);
        Device dev = be.device();
        Tensor a = ta ? Rand.tensor(rng, dev, k, m) : Rand.tensor(rng, dev, m, k);
        Tensor b = tb ? Rand.tensor(rng, dev, n, k) : Rand.tensor(rng, dev, k, n);
        Tensor c = Rand.tensor(rng, dev, m, n);
        Tensor cRef = c.to(Device.REFERENCE);
        be.gemm(ta, tb, 0.75f, a, b, 0.5f, c);
        REF.gemm(ta, tb, 0.75f, a.to(Device.REFERENCE), b.to(Device.REFERENCE), 0.5f, cRef);
        float[] expected = cRef.toFloatArray(), actual = c.toFloatArray();
        for (int i = 0; i < expected.length; i++) {
            double tol = 1e-5 * k * Math.max(1, Math.abs(expected[i]));
            assertTrue(
                    Math.abs(expected[i] - actual[i]) <= tol,
                    what + ": c[" + i / n + ", " + i % n + "] " + actual[i] + ", expected " + expected[i]);
        }
    }

    @ParameterizedTest(name = "{0} x {1} x {2}, {3} threads")
    @CsvSource({
        "257, 190, 260, 2", // rows cut in two
        "190, 257, 260, 2", // columns cut in two
        "300, 300, 200, 3", // three bands
        "300, 300, 200, 4", // a 2 x 2 grid
        "512, 96, 300, 6", // six bands of rows: the least packed per thread
        "64, 64, 2000, 4", // work for 3 threads, but 2 x 2 blocks of 32 fit no grid of 3: two
        "33, 1000, 400, 4", // one row band: the columns take every thread
        "3000, 5, 1000, 3", // five columns: rows only
        "40, 40, 40, 4", // too little work to split
        "200, 150, 0, 2" // k = 0: c = beta·c
    })
    void tiledGemmMatchesTheReferenceForEveryTranspose(int m, int n, int k, int threads) {
        Backend be = cpu(threads);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                assertGemmMatches(be, m, n, k, ta, tb, 31L * m + n + k, "ta=" + ta + " tb=" + tb);
            }
        }
    }

    @Test
    void eachBackendsThreadCountHoldsForItsOwnCallsOnly() {
        Backend one = cpu(1), three = cpu(3), all = Backends.of(Device.CPU);
        Tensor t = Tensor.zeros(Device.CPU, 4);
        one.fill(t, 1f);
        assertEquals(1, callingThreadCount());
        three.fill(t, 1f);
        assertEquals(3, callingThreadCount());
        all.fill(t, 1f);
        int every = callingThreadCount();
        assertTrue(every >= 1, "all cores: " + every);
        one.fill(t, 1f);
        assertEquals(1, callingThreadCount(), "a later call of the first backend has its count again");
        assertTrue(one.describe().contains(" 1 thread "), one.describe());
        assertTrue(three.describe().contains(" 3 threads "), three.describe());
    }

    @Test
    void openBlasItselfStaysSingleThreaded() {
        cpu(4).gemm(
                        false,
                        false,
                        1f,
                        Tensor.zeros(Device.CPU, 256, 256),
                        Tensor.zeros(Device.CPU, 256, 256),
                        0f,
                        Tensor.zeros(Device.CPU, 256, 256));
        assertEquals(1, cblas_h.openblas_get_num_threads());
    }

    @Test
    void backendsWithDifferentCountsComputeSideBySide() throws Exception {
        List<Backend> backends = List.of(cpu(1), cpu(2), cpu(3), Backends.of(Device.CPU));
        ExecutorService pool = Executors.newFixedThreadPool(backends.size());
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < backends.size(); i++) {
                Backend be = backends.get(i);
                long seed = i;
                done.add(pool.submit(() -> {
                    for (int rep = 0; rep < 4; rep++) {
                        assertGemmMatches(be, 260, 200, 180, rep % 2 == 1, rep >= 2, seed * 10 + rep, be.describe());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static int callingThreadCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_INT);
            assertEquals(sbora_native_h.SB_OK, sbora_native_h.sb_get_num_threads(out));
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }
}
