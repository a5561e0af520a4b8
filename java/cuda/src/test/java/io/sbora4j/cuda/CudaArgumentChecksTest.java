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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The cuda backend refuses broken arguments before it launches anything: RoPE positions outside the tables (held in
 * device memory, so only the launcher can read them: {@code SBC_ERR_INDEX}, as {@code sb_rope}'s
 * {@code SB_ERR_INDEX}), and the sizes, types and memory the contract checks in Java. Skipped without a usable
 * GPU (the emulated one included).
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
}
