package io.sbora4j.autograd;

import io.sbora4j.tensor.Tensor;

/** The backward rule of one op: from the gradient of its output, the gradients of its inputs. */
@FunctionalInterface
public interface BackwardFn {

    /**
     * Returns one gradient per input of the node, in input order; an entry may be null where that input needs no
     * gradient ({@link Node#needsGrad(int)} tells which do).
     */
    Tensor[] apply(Tensor gradOutput);
}
