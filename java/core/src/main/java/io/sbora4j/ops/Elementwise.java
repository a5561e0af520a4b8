package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** Elementwise arithmetic on tensors of equal shape, and its backward. */
public final class Elementwise {

    private Elementwise() {}

    public static Tensor add(Tensor a, Tensor b) {
        Backend be = prepare("add", a, b);
        Tensor out = a.emptyLike();
        be.add(a, b, out);
        return Autograd.record(out, "add", List.of(a, b), List.of(), g -> new Tensor[] {g, g});
    }

    public static Tensor sub(Tensor a, Tensor b) {
        Backend be = prepare("sub", a, b);
        Tensor out = a.emptyLike();
        be.sub(a, b, out);
        return Autograd.record(out, "sub", List.of(a, b), List.of(), g -> {
            Tensor gb = null;
            if (b.requiresGrad()) {
                gb = g.emptyLike();
                be.scale(g, -1f, gb);
            }
            return new Tensor[] {g, gb};
        });
    }

    public static Tensor mul(Tensor a, Tensor b) {
        Backend be = prepare("mul", a, b);
        Tensor out = a.emptyLike();
        be.mul(a, b, out);
        return Autograd.record(out, "mul", List.of(a, b), List.of(a, b), g -> {
            Tensor ga = null, gb = null;
            if (a.requiresGrad()) {
                ga = g.emptyLike();
                be.mul(g, b, ga);
            }
            if (b.requiresGrad()) {
                gb = g.emptyLike();
                be.mul(g, a, gb);
            }
            return new Tensor[] {ga, gb};
        });
    }

    /** {@code s * x}. */
    public static Tensor scale(Tensor x, float s) {
        Backend be = prepare("scale", x);
        Tensor out = x.emptyLike();
        be.scale(x, s, out);
        return Autograd.record(out, "scale", List.of(x), List.of(), g -> {
            Tensor gx = g.emptyLike();
            be.scale(g, s, gx);
            return new Tensor[] {gx};
        });
    }

    private static Backend prepare(String op, Tensor... ts) {
        Checks.sameFloatingType(op, ts);
        for (Tensor t : ts) {
            Checks.sameShape(op, ts[0], t);
        }
        return Backends.of(ts[0].device());
    }
}
