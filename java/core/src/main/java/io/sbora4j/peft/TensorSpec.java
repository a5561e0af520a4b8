package io.sbora4j.peft;

import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Shape;
import java.util.Locale;

/** The shape and type an adapter file must hold for one of a layer's adapter tensors. */
public record TensorSpec(Shape shape, DType dtype) {

    /** An f32 tensor of {@code dims}. */
    public static TensorSpec f32(int... dims) {
        return new TensorSpec(Shape.of(dims), DType.F32);
    }

    /** An i32 tensor of {@code dims} (an index list). */
    public static TensorSpec i32(int... dims) {
        return new TensorSpec(Shape.of(dims), DType.I32);
    }

    @Override
    public String toString() {
        return shape + " " + dtype.name().toLowerCase(Locale.ROOT);
    }
}
