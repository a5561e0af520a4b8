package io.sbora4j.autograd;

import io.sbora4j.tensor.Tensor;

/**
 * The backward rule of an op with several outputs (recorded with
 * {@link Autograd#record(Tensor[], String, java.util.List, java.util.List, MultiBackwardFn)}): from the gradients of
 * all its outputs at once, the gradients of its inputs. It runs once, after every op that used any of the outputs.
 */
@FunctionalInterface
public interface MultiBackwardFn {

    /**
     * Returns one gradient per input of the node, in input order (null where an input needs no gradient).
     *
     * @param gradOutputs one gradient per output, in output order; null for an output no gradient reached (never
     *     all null). They may be shared with other nodes: read them, never write into them.
     */
    Tensor[] apply(Tensor[] gradOutputs);
}
