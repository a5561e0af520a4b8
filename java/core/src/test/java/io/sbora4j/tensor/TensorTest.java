package io.sbora4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sbora4j.backend.Backends;
import org.junit.jupiter.api.Test;

class TensorTest {

    @Test
    void holdsValuesRowMajorAndViewsShareMemory() {
        Tensor t = Tensor.of(Device.CPU, new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertEquals(6f, t.get(1, 2));
        assertEquals(2, t.shape().rows());
        Tensor v = t.view(3, 2);
        v.setFloat(0, 9f);
        assertEquals(9f, t.get(0, 0));
        assertArrayEquals(new float[] {9, 2, 3, 4, 5, 6}, t.toFloatArray());
        assertEquals(Device.REFERENCE, t.to(Device.REFERENCE).device());
    }

    @Test
    void slicesShareTheRowsTheyView() {
        Tensor t = Tensor.of(Device.CPU, new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 4, 2);
        Tensor s = t.slice(1, 2);
        assertArrayEquals(new int[] {2, 2}, s.shape().dims());
        assertArrayEquals(new float[] {3, 4, 5, 6}, s.toFloatArray());
        s.setFloat(3, 0f);
        assertEquals(0f, t.get(2, 1));
        assertEquals(0, t.slice(4, 0).numel());
        Tensor v = Tensor.ofInts(Device.CPU, new int[] {5, 6, 7}, 3);
        assertArrayEquals(new int[] {7}, v.slice(2, 1).toIntArray());
        assertThrows(IndexOutOfBoundsException.class, () -> t.slice(3, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> t.slice(-1, 1));
        assertThrows(
                IllegalArgumentException.class,
                () -> Tensor.scalar(Device.CPU, 1f).slice(0, 1));
    }

    @Test
    void rejectsMismatchedSizesAndTypes() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(Device.CPU, new float[5], 2, 3));
        assertThrows(
                IllegalArgumentException.class,
                () -> Tensor.zeros(Device.CPU, 2, 3).view(4, 2));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(2, -1));
        assertThrows(
                IllegalArgumentException.class,
                () -> Tensor.ofInts(Device.CPU, new int[] {1}, 1).requiresGrad(true));
        assertThrows(IllegalArgumentException.class, () -> Backends.device("tpu"));
        assertThrows(
                IndexOutOfBoundsException.class,
                () -> Tensor.zeros(Device.CPU, 2, 2).get(2, 0));
    }

    @Test
    void memoryIsAlignedForVectorLoads() {
        assertEquals(0, Tensor.zeros(Device.CPU, 7).data().address() % Tensor.ALIGNMENT);
    }
}
