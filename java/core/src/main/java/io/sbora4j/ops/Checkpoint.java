package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.autograd.NoGrad;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Activation checkpointing: a function of one tensor (a decoder layer) that keeps none of its activations for the
 * backward pass and computes them again there. The forward runs without recording, in a memory scope of its own
 * that closes as soon as its output is copied out; the backward runs the function again, recording, in another
 * scope of its own, back-propagates the output's gradient through it (the parameters' gradients accumulate as
 * usual) and hands on the input's. Memory: one input and one output per checkpoint instead of every activation;
 * time: one more forward.
 *
 * <p>The function must compute the same thing both times: deterministic kernels, no random draws (adapter dropout
 * draws new masks on each call, so a checkpointed layer must not use it).
 */
public final class Checkpoint {

    private Checkpoint() {}

    /**
     * {@code fn(x)}, checkpointed where a graph is being recorded and {@code x} or one of {@code params} (the
     * trainable tensors {@code fn} uses) needs a gradient; a plain call otherwise.
     */
    public static Tensor apply(String name, Tensor x, List<Tensor> params, UnaryOperator<Tensor> fn) {
        List<Tensor> inputs = new ArrayList<>(params.size() + 1);
        inputs.add(x);
        inputs.addAll(params);
        if (!Autograd.needsGraph(inputs.toArray(Tensor[]::new))) {
            return fn.apply(x);
        }
        Arena outer = MemoryScope.current()
                .map(MemoryScope::arena)
                .orElseThrow(() -> new IllegalStateException("checkpointing needs an open MemoryScope (a step)"));
        Tensor y;
        try (MemoryScope forward = MemoryScope.open();
                NoGrad ng = NoGrad.enter()) {
            Tensor out = fn.apply(x.detach());
            y = out.copyInto(outer, out.device());
        }
        return Autograd.record(y, name, inputs, List.of(x), dy -> {
            Tensor[] grads = new Tensor[inputs.size()];
            // xr shares x's memory and its arena (the step's), so its gradient outlives the recomputation's scope
            Tensor xr = x.detach().requiresGrad(x.requiresGrad());
            try (MemoryScope recompute = MemoryScope.open()) {
                Autograd.backward(fn.apply(xr), dy);
            }
            grads[0] = xr.grad();
            if (grads[0] != null) {
                // the backward keeps a leaf's gradient for its reader; here the reader is the outer pass, which
                // keeps it while it needs it, so it can go back to the pool as soon as the layer below has run
                MemoryScope.unkeep(grads[0]);
            }
            return grads;
        });
    }
}
