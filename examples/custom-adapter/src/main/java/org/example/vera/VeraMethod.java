package org.example.vera;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.peft.Adapter;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterInit;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.TensorSpec;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Locale;
import java.util.Map;

/**
 * VeRA (Kopiczko et al. 2024, "Vector-based Random Matrix Adaptation") as an sbora4j adapter method, defined outside
 * the library: ΔW = s·Λ_b·B·Λ_d·A with A (r x in) and B (out x r) random and frozen, and only the vectors d (r) and
 * b (out) trained. Found through {@code META-INF/services/io.sbora4j.peft.AdapterMethod}; {@code --method vera}
 * then works on the command line too.
 *
 * <p>The paper shares A and B across layers; here each layer draws its own from its seeded streams, so that layers
 * of any shape work and the adapter is reproducible from its config.
 */
public final class VeraMethod implements AdapterMethod {

    /** d's starting value (the paper's d_init); b starts at zero, so ΔW starts at zero. */
    static final float D_INIT = 0.1f;

    @Override
    public String id() {
        return "vera";
    }

    @Override
    public String description() {
        return "VeRA: A and B random and frozen, the scaling vectors d (r) and b (out) trained";
    }

    /** r + out: the two vectors. */
    @Override
    public long trainableParameters(long out, long in, long r) {
        return r + out;
    }

    @Override
    public int maxRank(int out, int in) {
        return Math.min(out, in);
    }

    /** The column scalings and sums VeRA uses run in f32. */
    @Override
    public void checkBase(FrozenLinear base) {
        if (base.computeType() != DType.F32) {
            throw new IllegalArgumentException("layer '" + base.name() + "': vera needs an f32 base weight, not "
                    + base.computeType().name().toLowerCase(Locale.ROOT));
        }
    }

    @Override
    public Adapter create(AdapterConfig config, FrozenLinear base, Arena arena) {
        int r = config.r(), in = base.inFeatures(), out = base.outFeatures();
        Tensor a = AdapterInit.random(config, base, "vera_A", "vera_A", r, in, arena);
        Tensor b = AdapterInit.random(config, base, "vera_B", "vera_B", out, r, arena);
        Tensor d = AdapterInit.zeros(base, "lambda_d", arena, r);
        Backends.of(base.device()).fill(d, D_INIT);
        Tensor lambdaB = AdapterInit.zeros(base, "lambda_b", arena, out);
        return new VeraAdapter(this, a, b, d, lambdaB, config.scaling());
    }

    @Override
    public Map<String, TensorSpec> storedTensors(int out, int in, int r) {
        return Map.of(
                "vera_A", TensorSpec.f32(r, in),
                "vera_B", TensorSpec.f32(out, r),
                "lambda_d", TensorSpec.f32(r),
                "lambda_b", TensorSpec.f32(out));
    }

    /** LoRA's form exactly: A' = Λ_d·A (r x in), B' = Λ_b·B (out x r), scaled by the same alpha / r. */
    @Override
    public Map<String, Tensor> toPeft(
            String path, Map<String, Tensor> stored, int out, int in, AdapterConfig config, Arena arena) {
        Backend be = Backends.of(Device.CPU);
        Tensor a = Tensor.zeros(arena, Device.CPU, config.r(), in);
        be.scaleRows(stored.get("vera_A"), stored.get("lambda_d"), a);
        Tensor b = Tensor.zeros(arena, Device.CPU, out, config.r());
        be.scaleRows(stored.get("vera_B"), stored.get("lambda_b"), b);
        return Map.of("lora_A.weight", a, "lora_B.weight", b);
    }

    @Override
    public String toString() {
        return id();
    }
}
