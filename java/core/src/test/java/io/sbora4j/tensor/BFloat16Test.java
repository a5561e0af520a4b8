package io.sbora4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BFloat16Test {

    @Test
    void roundsToNearestWithTiesToEven() {
        assertEquals(1f, BFloat16.round(1.00390625f), "a tie below an even mantissa rounds down");
        assertEquals(1.015625f, BFloat16.round(1.01171875f), "a tie below an odd mantissa rounds up");
        assertEquals(1.0078125f, BFloat16.round(1.0078125f), "representable values are kept");
        assertEquals(1.0078125f, BFloat16.round(1.005f));
        assertEquals(Float.POSITIVE_INFINITY, BFloat16.round(Float.MAX_VALUE), "past the largest bf16: infinity");
        assertEquals(Float.NEGATIVE_INFINITY, BFloat16.round(Float.NEGATIVE_INFINITY));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(BFloat16.round(-0f)));
    }

    @Test
    void nanStaysNanWithItsSign() {
        float negNan = Float.intBitsToFloat(0xff800001); // a signalling NaN with only the lowest payload bit
        short h = BFloat16.fromFloat(negNan);
        assertTrue(Float.isNaN(BFloat16.toFloat(h)));
        assertTrue((h & 0x8000) != 0, "sign kept");
    }

    @Test
    void widensExactly() {
        for (int bits = 0; bits < 0x10000; bits += 37) {
            float f = BFloat16.toFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, BFloat16.fromFloat(f), "round trip of 0x" + Integer.toHexString(bits));
            }
        }
    }

    @Test
    void bf16TensorsHoldRoundedValues() {
        Tensor t = Tensor.of(Device.CPU, DType.BF16, new float[] {1.005f, -3f, 0.1f}, 3);
        assertEquals(6, t.bytes());
        assertArrayEquals(new float[] {1.0078125f, -3f, 0.10009765625f}, t.toFloatArray());
        assertTrue(t.describe().contains("bf16"));
    }
}
