package io.sbora4j.autograd;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.GradFn;
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
 * leaf's own arena so that it outlives the step's {@link io.sbora4j.tensor.MemoryScope}.
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
            output.attachGradFn(new Node(name, inputs, saved, backward));
        }
        return output;
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
        List<Tensor> order = topologicalOrder(output);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(output, gradOutput);
        for (int k = order.size() - 1; k >= 0; k--) {
            Tensor t = order.get(k);
            Tensor g = grads.remove(t);
            Node node = (Node) t.gradFn();
            if (g == null) {
                node.release();
                continue; // no path from the output to this tensor carries a gradient
            }
            Tensor[] inGrads = node.runBackward(g);
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
                    } else {
                        Tensor sum = prev.emptyLike();
                        Backends.of(prev.device()).add(prev, gi, sum);
                        grads.put(in, sum);
                    }
                }
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
        } else {
            be.axpy(1f, g, acc);
        }
    }

    /** The recorded nodes that produced {@code root}, inputs before the ops that use them (for inspection). */
    public static List<Node> nodes(Tensor root) {
        List<Node> out = new ArrayList<>();
        if (root.gradFn() != null) {
            for (Tensor t : topologicalOrder(root)) {
                out.add((Node) t.gradFn());
            }
        }
        return out;
    }

    /** Non-leaf tensors reachable from {@code root}, each after all of its inputs (iterative DFS). */
    private static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Map<Tensor, Boolean> visited = new IdentityHashMap<>();
        Deque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            GradFn fn = t.gradFn();
            int next = (Integer) frame[1];
            List<Tensor> inputs = fn.inputs();
            if (next < inputs.size()) {
                frame[1] = next + 1;
                Tensor in = inputs.get(next);
                if (in.gradFn() != null && in.requiresGrad() && !visited.containsKey(in)) {
                    visited.put(in, Boolean.TRUE);
                    stack.push(new Object[] {in, 0});
                }
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }
}
