package io.sbora4j.autograd;

import io.sbora4j.tensor.GradFn;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/**
 * One recorded op of the autograd graph: its inputs, its outputs (one for most ops), the tensors it saved for its
 * backward, and the rule. The saved tensors are declared explicitly so that what an op keeps alive is visible
 * ({@link #savedBytes()}); SBoRA-FA's layer, for instance, saves x[:, idx] and nothing of x. A node keeps its saved
 * tensors' memory ({@link MemoryScope#keep}) until its rule is released, so that model code may
 * {@link MemoryScope#release} an activation after its last use in the forward without taking it from the backward.
 */
public final class Node implements GradFn {

    private final String name;
    private final List<Tensor> inputs;
    private final List<Tensor> outputs;
    private final boolean[] needsGrad;
    private final long savedBytes;
    private List<Tensor> saved;
    private MultiBackwardFn backward;

    Node(String name, List<Tensor> inputs, List<Tensor> outputs, List<Tensor> saved, MultiBackwardFn backward) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.needsGrad = new boolean[inputs.size()];
        for (int i = 0; i < needsGrad.length; i++) {
            needsGrad[i] = inputs.get(i).requiresGrad();
        }
        long bytes = 0;
        for (Tensor t : saved) {
            bytes += t.bytes();
            MemoryScope.keep(t);
        }
        this.savedBytes = bytes;
        this.saved = List.copyOf(saved);
        this.backward = backward;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Tensor> inputs() {
        return inputs;
    }

    /** The tensors this op computed, in order: one for most ops. */
    public List<Tensor> outputs() {
        return outputs;
    }

    /** Whether input {@code i} needs a gradient. */
    public boolean needsGrad(int i) {
        return needsGrad[i];
    }

    /** Bytes of the tensors this node saved for its backward pass. */
    public long savedBytes() {
        return savedBytes;
    }

    Tensor[] runBackward(Tensor[] gradOutputs) {
        if (backward == null) {
            throw new IllegalStateException("backward through '" + name
                    + "' a second time: its saved tensors were released after the first backward pass");
        }
        Tensor[] grads = backward.apply(gradOutputs);
        if (grads.length != inputs.size()) {
            throw new IllegalStateException(
                    name + " backward returned " + grads.length + " gradients for " + inputs.size() + " inputs");
        }
        return grads;
    }

    /** Drops the backward rule and with it every tensor it captured; the saved tensors' memory is no longer kept. */
    void release() {
        backward = null;
        if (saved != null) {
            List<Tensor> s = saved;
            saved = null;
            for (Tensor t : s) {
                MemoryScope.unkeep(t);
            }
        }
    }

    @Override
    public String toString() {
        return "Node(" + name + ")";
    }
}
