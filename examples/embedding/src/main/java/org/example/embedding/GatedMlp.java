package org.example.embedding;

import io.sbora4j.nn.Linear;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.nn.Module;
import io.sbora4j.ops.Activations;
import io.sbora4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The application's own network, not a LLaMA: {@code y = out(silu(gate(x)) ⊙ up(x))}. It holds its three linear
 * layers by path and lets them be replaced, which is all adapter injection needs.
 */
final class GatedMlp implements Module {

    private LinearLayer gate;
    private LinearLayer up;
    private LinearLayer out;

    GatedMlp(Tensor gateWeight, Tensor upWeight, Tensor outWeight) {
        this.gate = new Linear("net.gate", gateWeight);
        this.up = new Linear("net.up", upWeight);
        this.out = new Linear("net.out", outWeight);
    }

    Tensor forward(Tensor x) {
        return out.forward(Activations.siluMul(gate.forward(x), up.forward(x)));
    }

    @Override
    public Map<String, LinearLayer> linearLayers() {
        Map<String, LinearLayer> m = new LinkedHashMap<>();
        m.put(gate.name(), gate);
        m.put(up.name(), up);
        m.put(out.name(), out);
        return m;
    }

    @Override
    public void replaceLinearLayers(UnaryOperator<LinearLayer> replace) {
        gate = Module.checkReplacement(gate, replace.apply(gate));
        up = Module.checkReplacement(up, replace.apply(up));
        out = Module.checkReplacement(out, replace.apply(out));
    }

    @Override
    public Map<String, Tensor> namedTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        linearLayers().forEach((path, l) -> m.put(path + ".weight", l.frozen().denseWeight()));
        return m;
    }

    @Override
    public void train(boolean training) {
        linearLayers().values().forEach(l -> l.train(training));
    }
}
