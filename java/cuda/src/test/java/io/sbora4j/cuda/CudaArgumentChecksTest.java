package io.sbora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.ops.RopeTables;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The cuda backend refuses broken arguments before it launches anything: RoPE positions outside the tables (held in
 * device memory, so only the launcher can read them: {@code SBC_ERR_INDEX}, as {@code sb_rope}'s
 * {@code SB_ERR_INDEX}), and the sizes, types and memory the contract checks in Java. Other indices held in device
 * memory are checked on the device: the kernel does nothing and the next synchronisation throws. Skipped without a
 * usable GPU (the emulated one included).
 */
@Tag("cuda")
class CudaArgumentChecksTest {

    private static final Device CUDA = Backends.device("cuda");

    private Backend cuda;
    private MemoryScope scope;

    @BeforeEach
    void gpu() {
        var reason = Backends.unavailableReason("cuda");
        assumeTrue(reason.isEmpty(), () -> "no usable CUDA here: " + reason.orElse(""));
        cuda = Backends.of(CUDA);
        scope = MemoryScope.open();
    }

    @AfterEach
    void closeScope() {
        if (scope != null) {
            scope.close();
        }
    }

    private static Tensor onCuda(int[] ids) {
        return Tensor.ofInts(CUDA, ids, ids.length);
    }

    @Test
    void ropeRefusesPositionsOutsideItsTablesAndWritesNothing() {
        RopeTables tables = new RopeTables(Arena.ofAuto(), CUDA, 4, 8, 10000);
        float[] values = new float[3 * 8];
        for (int i = 0; i < values.length; i++) {
            values[i] = i + 1;
        }
        Tensor x = Tensor.of(CUDA, values, 3, 8);
        Tensor out = Tensor.of(CUDA, new float[3 * 8], 3, 8);
        for (int[] bad : new int[][] {{0, 8, 1}, {0, -1, 1}, {Integer.MIN_VALUE, 0, 0}, {7, 7, Integer.MAX_VALUE}}) {
            IndexOutOfBoundsException e = assertThrows(
                    IndexOutOfBoundsException.class,
                    () -> cuda.rope(x, 2, onCuda(bad), tables.cos(), tables.sin(), 1f, out));
            assertTrue(e.getMessage().contains("sbc_rope"), e.getMessage());
            assertArrayEquals(new float[3 * 8], out.toFloatArray(), "nothing written");
        }
        cuda.rope(x, 2, onCuda(new int[] {0, 7, 3}), tables.cos(), tables.sin(), 1f, out); // in range: fine
    }

    @Test
    void sizesTypesAndHostMemoryAreRefusedInJava() {
        Tensor a = Tensor.of(CUDA, new float[6], 2, 3);
        Tensor b = Tensor.of(CUDA, new float[12], 3, 4);
        Tensor shortC = Tensor.of(CUDA, new float[6], 2, 3);
        assertThrows(IllegalArgumentException.class, () -> cuda.gemm(false, false, 1f, a, b, 0f, shortC));
        Tensor host = Tensor.of(Device.CPU, new float[8], 2, 4);
        assertThrows(IllegalArgumentException.class, () -> cuda.gemm(false, false, 1f, a, b, 0f, host));
        Tensor ints = Tensor.ofInts(CUDA, new int[6], 2, 3);
        assertThrows(IllegalArgumentException.class, () -> cuda.add(a, ints, a));
        Tensor bf16 = Tensor.of(CUDA, DType.BF16, new float[6], 6);
        assertThrows(IllegalArgumentException.class, () -> cuda.dot(bf16, bf16));
        Tensor x = Tensor.of(CUDA, new float[15], 3, 5);
        Tensor out = Tensor.of(CUDA, new float[3], 3, 1);
        assertThrows(IllegalArgumentException.class, () -> cuda.gatherCols(x, onCuda(new int[] {0, 1}), out));
    }

    /** One call of an index kernel with the given (device) indices, and the tensor it writes. */
    private interface IndexCall {
        void run(Tensor idx);
    }

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.25f * (i % 7) - 0.5f;
        }
        return v;
    }

    /**
     * Every kernel that reads indices from device memory: an index out of range makes it write nothing, the next
     * read of any result throws (once), and the kernels that follow work again.
     */
    @Test
    void deviceHeldIndicesOutOfRangeAreReportedAtTheNextReadAndWriteNothing() {
        int rows = 3, cols = 5, r = 2;
        Tensor x = Tensor.of(CUDA, ramp(rows * cols), rows, cols);
        Tensor f = Tensor.of(CUDA, ramp(cols * r), cols, r); // kdim x r: the scatter's factor
        Tensor fGather = Tensor.of(CUDA, ramp(r * cols), r, cols); // r x n: the gather's factor
        Tensor out = Tensor.of(CUDA, new float[rows * cols], rows, cols);
        Tensor outR = Tensor.of(CUDA, new float[rows * r], rows, r);
        Tensor outRows = Tensor.of(CUDA, new float[r * cols], r, cols);
        Tensor loss = Tensor.of(CUDA, new float[rows], rows);
        Tensor lse = Tensor.of(CUDA, new float[rows], rows);
        Map<String, IndexCall> calls = new LinkedHashMap<>();
        Map<String, Tensor> written = new LinkedHashMap<>();
        calls.put("gatherCols", idx -> cuda.gatherCols(x, idx, outR));
        written.put("gatherCols", outR);
        calls.put("gatherRows", idx -> cuda.gatherRows(x, idx, outRows));
        written.put("gatherRows", outRows);
        calls.put("indexAddCols", idx -> cuda.indexAddCols(out, idx, outR, 1f));
        written.put("indexAddCols", out);
        calls.put("indexAddRows", idx -> cuda.indexAddRows(out, idx, outRows, 1f));
        written.put("indexAddRows", out);
        calls.put("gatherGemm", idx -> cuda.gatherGemm(x, idx, fGather, false, 1f, out, null));
        written.put("gatherGemm", out);
        calls.put("gemmScatter", idx -> cuda.gemmScatter(x, f, false, idx, 1f, out));
        written.put("gemmScatter", out);
        calls.put("crossEntropyForward", t -> cuda.crossEntropyForward(x, t, -100, loss, lse));
        written.put("crossEntropyForward", loss);
        calls.put("crossEntropyBackward", t -> cuda.crossEntropyBackward(x, t, lse, -100, 1f, out));
        written.put("crossEntropyBackward", out);
        for (var e : calls.entrySet()) {
            String name = e.getKey();
            boolean targets = name.startsWith("crossEntropy");
            int n = targets ? rows : r;
            int bound = targets ? cols : name.endsWith("Rows") ? rows : cols;
            for (int badValue : new int[] {bound, -1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
                int[] bad = new int[n];
                for (int i = 0; i < n; i++) {
                    bad[i] = i;
                }
                bad[n - 1] = badValue;
                Tensor target = written.get(name);
                float[] before = target.toFloatArray();
                e.getValue().run(onCuda(bad)); // asynchronous: the launch itself succeeds
                IndexOutOfBoundsException thrown =
                        assertThrows(IndexOutOfBoundsException.class, target::toFloatArray, name + " " + badValue);
                assertTrue(thrown.getMessage().contains("index out of range"), thrown.getMessage());
                assertArrayEquals(before, target.toFloatArray(), name + " wrote nothing, and the flag is lowered");
            }
            int[] good = new int[n];
            for (int i = 0; i < n; i++) {
                good[i] = targets && i == 0 ? -100 : i; // ignore_index is in range for the targets
            }
            e.getValue().run(onCuda(good));
            written.get(name).toFloatArray(); // no fault left behind
        }
    }
}
