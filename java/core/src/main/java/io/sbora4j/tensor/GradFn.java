package io.sbora4j.tensor;

import java.util.List;

/**
 * The node of the autograd graph that produced a tensor. Declared here so that a tensor can point at its producer
 * without this package depending on {@code io.sbora4j.autograd}, which implements it.
 */
public interface GradFn {

    /** The name of the op, for messages. */
    String name();

    /** The op's inputs, in order; those that need no gradient are still listed. */
    List<Tensor> inputs();
}
