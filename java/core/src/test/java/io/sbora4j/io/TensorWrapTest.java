package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.UnusableDevice;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** {@link Tensor#wrap}, which the reader builds its zero-copy views on: it refuses memory a tensor cannot use. */
class TensorWrapTest {

    @Test
    void wrapsWithoutCopying() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(24, 4);
            m.setAtIndex(ValueLayout.JAVA_FLOAT, 5, 7f);
            Tensor t = Tensor.wrap(m, a, Device.CPU, DType.F32, 2, 3);
            assertEquals(7f, t.get(1, 2));
            t.setFloat(0, 3f);
            assertEquals(3f, m.getAtIndex(ValueLayout.JAVA_FLOAT, 0), "same memory");
            assertSame(a, t.arena());
            assertEquals(
                    0,
                    Tensor.wrap(m.asSlice(4, 0), a, Device.REFERENCE, DType.I32, 0, 7)
                            .numel());
        }
    }

    @Test
    void refusesMemoryItCannotUse() {
        try (Arena a = Arena.ofConfined();
                Arena other = Arena.ofConfined()) {
            MemorySegment m = a.allocate(32, 8);
            expect("20 bytes", () -> Tensor.wrap(m.asSlice(0, 20), a, Device.CPU, DType.F32, 2, 3));
            expect("not aligned", () -> Tensor.wrap(m.asSlice(2, 24), a, Device.CPU, DType.F32, 6));
            expect("native", () -> Tensor.wrap(MemorySegment.ofArray(new float[6]), a, Device.CPU, DType.F32, 6));
            expect("owner", () -> Tensor.wrap(m, other, Device.CPU, DType.F32, 8));
            expect("negative", () -> Tensor.wrap(m, a, Device.CPU, DType.F32, -8));
            assertThrows(
                    UnsupportedOperationException.class,
                    () -> Tensor.wrap(m, a, UnusableDevice.create(), DType.F32, 8));
        }
    }

    private static void expect(String part, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
}
