package io.sbora4j.bench;

import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A frozen layer whose two GEMMs hand back fixed buffers instead of computing {@code y = x·Wᵀ} and {@code dx = dy·W}:
 * an adapted layer over it costs exactly its adapter path, which lets {@link AdapterLayerBench#adapterPathOnly} time
 * an adapter's overhead directly instead of as the small difference of two large, noisy times. The buffers' contents
 * drift as adapters add into them; only the time means anything. The scan of the input for non-finite values, which
 * the real layer does, is left out with the GEMMs.
 */
final class FixedOutputBase implements FrozenLinear {

    private final FrozenLinear real;
    private final Tensor y;
    private final Tensor dx;

    /** {@code real}'s weight and shapes; {@code y} (tokens x out) and {@code dx} (tokens x in) as its outputs. */
    FixedOutputBase(FrozenLinear real, Tensor y, Tensor dx) {
        this.real = real;
        this.y = y;
        this.dx = dx;
    }

    @Override
    public String name() {
        return real.name();
    }

    @Override
    public int inFeatures() {
        return real.inFeatures();
    }

    @Override
    public int outFeatures() {
        return real.outFeatures();
    }

    @Override
    public Tensor forward(Tensor x) {
        return y;
    }

    @Override
    public Tensor denseWeight() {
        return real.denseWeight();
    }

    @Override
    public Device device() {
        return real.device();
    }

    @Override
    public DType computeType() {
        return real.computeType();
    }

    @Override
    public Tensor forwardRaw(Tensor x2) {
        return y;
    }

    @Override
    public Tensor backwardRaw(Tensor dy) {
        return dx;
    }

    @Override
    public Tensor flatten(Tensor x) {
        return real.flattenUnchecked(x);
    }

    @Override
    public Tensor flattenUnchecked(Tensor x) {
        return real.flattenUnchecked(x);
    }

    @Override
    public Tensor unflatten(Tensor out, Tensor x) {
        return real.unflatten(out, x);
    }

    @Override
    public void mergeDelta(Consumer<Tensor> addDelta) {
        throw new UnsupportedOperationException("a benchmark stand-in does not merge");
    }

    @Override
    public void unmergeDelta(Consumer<Tensor> subtractDelta) {
        throw new UnsupportedOperationException("a benchmark stand-in does not merge");
    }

    @Override
    public Map<String, Tensor> namedTensors() {
        return real.namedTensors();
    }

    @Override
    public void train(boolean training) {
        real.train(training);
    }
}
