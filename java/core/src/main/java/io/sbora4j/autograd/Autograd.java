package io.sbora4j.autograd;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reverse-mode differentiation: ops {@link #record} a node on their output, and {@link #backward} walks the nodes
 * from a scalar loss in reverse topological order, handing each its output gradient and accumulating the input
 * gradients. Leaves that require a gradient (parameters) receive it in {@link Tensor#grad()}, allocated in the
 * leaf's own arena so that it outlives the step's {@link MemoryScope}.
 *
 * <p>The backward pass gives memory back as it goes ({@link MemoryScope#releaseSince}): after each node, what its
 * rule allocated is released except the gradients it handed on, a gradient goes once the node it was for has run,
 * and the node's saved tensors are no longer kept. So a step holds the saved activations of the nodes still to run,
 * the gradients in flight and one rule's temporaries, not every temporary of the whole pass.
 */
public final class Autograd {

    private Autograd() {}

    /** Whether an op on {@code inputs} must record a node: recording is on and some input needs a gradient. */
    public static boolean needsGraph(Tensor... inputs) {
        if (!NoGrad.isRecording()) {
            return false;
        }
        for (Tensor t : inputs) {
            if (t != null && t.requiresGrad()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Attaches a node to {@code output} when {@link #needsGraph} holds for {@code inputs}, and returns the output.
     *
     * @param saved the tensors {@code backward} keeps alive, declared for accounting ({@link Node#savedBytes()})
     */
    public static Tensor record(
            Tensor output, String name, List<Tensor> inputs, List<Tensor> saved, BackwardFn backward) {
        if (needsGraph(inputs.toArray(Tensor[]::new))) {
            output.attachGradFn(new Node(name, inputs, List.of(output), saved, g -> backward.apply(g[0])));
        }
        return output;
    }

    /**
     * Attaches one node to all of {@code outputs} (distinct tensors, not views of one another) when
     * {@link #needsGraph} holds for {@code inputs}, and returns the outputs. The backward rule runs once, with the
     * gradients of every output: an op that computes two results in one pass (a residual sum and its norm) also
     * takes their gradients back in one pass.
     *
     * @param saved the tensors {@code backward} keeps alive, declared for accounting ({@link Node#savedBytes()})
     */
    public static Tensor[] record(
            Tensor[] outputs, String name, List<Tensor> inputs, List<Tensor> saved, MultiBackwardFn backward) {
        if (needsGraph(inputs.toArray(Tensor[]::new))) {
            Node node = new Node(name, inputs, List.of(outputs), saved, backward);
            for (Tensor out : outputs) {
                out.attachGradFn(node);
            }
        }
        return outputs;
    }

    /** Back-propagates from a one-element {@code loss}, seeding its gradient with 1. */
    public static void backward(Tensor loss) {
        if (loss.numel() != 1) {
            throw new IllegalArgumentException(
                    "backward() needs a scalar loss, got shape " + loss.shape() + "; use backward(output, gradOutput)");
        }
        Tensor seed = loss.emptyLike();
        Backends.of(loss.device()).fill(seed, 1f);
        backward(loss, seed);
    }

    /** Back-propagates {@code gradOutput} (the gradient of some scalar with respect to {@code output}). */
    public static void backward(Tensor output, Tensor gradOutput) {
        if (!output.shape().equals(gradOutput.shape())) {
            throw new IllegalArgumentException(
                    "gradient of shape " + gradOutput.shape() + " for output of shape " + output.shape());
        }
        if (!output.requiresGrad()) {
            throw new IllegalStateException("backward() on a tensor that does not require a gradient");
        }
        if (output.isLeaf()) {
            accumulateLeaf(output, gradOutput);
            return;
        }
        List<Node> order = topologicalOrder((Node) output.gradFn());
        // Temporaries go to the innermost scope: what a rule allocates there is released once the rule has returned,
        // except the gradients kept for the nodes still to run.
        MemoryScope scope = MemoryScope.current().orElse(null);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(output, gradOutput);
        MemoryScope.keep(gradOutput);
        for (int k = order.size() - 1; k >= 0; k--) {
            Node node = order.get(k);
            List<Tensor> outputs = node.outputs();
            Tensor[] outGrads = new Tensor[outputs.size()];
            boolean any = false;
            for (int o = 0; o < outGrads.length; o++) {
                outGrads[o] = grads.remove(outputs.get(o));
                any |= outGrads[o] != null;
            }
            if (!any) {
                node.release();
                continue; // no path from the output to this node carries a gradient
            }
            long mark = scope == null ? 0 : scope.allocationMark();
            Tensor[] inGrads = node.runBackward(outGrads);
            node.release();
            List<Tensor> inputs = node.inputs();
            for (int i = 0; i < inputs.size(); i++) {
                Tensor in = inputs.get(i);
                Tensor gi = inGrads[i];
                if (gi == null || !node.needsGrad(i)) {
                    continue;
                }
                if (!gi.shape().equals(in.shape())) {
                    throw new IllegalStateException(node.name() + " backward gave a gradient of shape " + gi.shape()
                            + " for input " + i + " of shape " + in.shape());
                }
                if (gi.dtype() != in.dtype()) { // a gradient has its tensor's type (bf16 activations, f32 weights)
                    Tensor converted = in.emptyLike();
                    Backends.of(in.device()).convert(gi, converted);
                    gi = converted;
                }
                if (in.isLeaf()) {
                    accumulateLeaf(in, gi);
                } else {
                    Tensor prev = grads.get(in);
                    if (prev == null) {
                        grads.put(in, gi);
                        MemoryScope.keep(gi);
                    } else {
                        Tensor sum = prev.emptyLike();
                        Backends.of(prev.device()).add(prev, gi, sum);
                        grads.put(in, sum);
                        MemoryScope.keep(sum);
                        MemoryScope.unkeep(prev);
                    }
                }
            }
            for (Tensor g : outGrads) {
                if (g != null) {
                    MemoryScope.unkeep(g);
                }
            }
            if (scope != null) {
                scope.releaseSince(mark);
            }
        }
    }

    private static void accumulateLeaf(Tensor leaf, Tensor g) {
        Backend be = Backends.of(leaf.device());
        Tensor acc = leaf.grad();
        if (acc == null) {
            acc = Tensor.empty(
                    leaf.arena(), leaf.device(), leaf.dtype(), leaf.shape().dims());
            be.copy(g, acc);
            leaf.setGrad(acc);
            MemoryScope.keep(acc); // a leaf of the step's own scope: its gradient stays until the scope closes
        } else {
            be.axpy(1f, g, acc);
        }
    }

    /** The recorded nodes that produced {@code root}, inputs before the ops that use them (for inspection). */
    public static List<Node> nodes(Tensor root) {
        return root.gradFn() == null ? new ArrayList<>() : topologicalOrder((Node) root.gradFn());
    }

    /**
     * The nodes reachable from {@code root}, each after the nodes that computed its inputs (iterative DFS). A node
     * with several outputs is one vertex: every op that used any of its outputs comes after it.
     */
    private static List<Node> topologicalOrder(Node root) {
        List<Node> order = new ArrayList<>();
        Map<Node, Boolean> visited = new IdentityHashMap<>();
        Deque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Node node = (Node) frame[0];
            int next = (Integer) frame[1];
            List<Tensor> inputs = node.inputs();
            if (next < inputs.size()) {
                frame[1] = next + 1;
                Tensor in = inputs.get(next);
                if (in.gradFn() instanceof Node producer && in.requiresGrad() && !visited.containsKey(producer)) {
                    visited.put(producer, Boolean.TRUE);
                    stack.push(new Object[] {producer, 0});
                }
            } else {
                stack.pop();
                order.add(node);
            }
        }
        return order;
    }
}
