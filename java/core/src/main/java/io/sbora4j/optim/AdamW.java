package io.sbora4j.optim;

import io.sbora4j.backend.AdamWStep;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW with torch.optim.AdamW's update rule (Loshchilov and Hutter; decoupled weight decay, bias correction, eps
 * added after the square root), one fused kernel per parameter. The moments live in the optimizer's own arena,
 * freed by {@link #close()}.
 */
public final class AdamW implements AutoCloseable {

    /** Hyper-parameters; the defaults are PyTorch's. */
    public record Config(double lr, double beta1, double beta2, double eps, double weightDecay) {

        public Config {
            if (!(lr >= 0) || !Double.isFinite(lr)) {
                throw new IllegalArgumentException("AdamW lr must be a finite number >= 0, got " + lr);
            }
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("AdamW betas must lie in [0, 1), got " + beta1 + ", " + beta2);
            }
            if (!(eps > 0) || !Double.isFinite(eps)) {
                throw new IllegalArgumentException("AdamW eps must be a finite number > 0, got " + eps);
            }
            if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
                throw new IllegalArgumentException("AdamW weight decay must be finite and >= 0, got " + weightDecay);
            }
        }

        /** lr with betas (0.9, 0.999), eps 1e-8 and weight decay 0.01, torch.optim.AdamW's defaults. */
        public static Config lr(double lr) {
            return new Config(lr, 0.9, 0.999, 1e-8, 0.01);
        }

        public Config withWeightDecay(double wd) {
            return new Config(lr, beta1, beta2, eps, wd);
        }
    }

    private final List<Tensor> params;
    private final List<Tensor> m = new ArrayList<>();
    private final List<Tensor> v = new ArrayList<>();
    private final Config config;
    private final Arena arena = Arena.ofShared();
    private long step;

    public AdamW(List<Tensor> params, Config config) {
        for (Tensor p : params) {
            if (!p.requiresGrad() || !p.isLeaf()) {
                throw new IllegalArgumentException("AdamW: " + p.describe() + " is not a trainable leaf tensor");
            }
            p.requireWritable("AdamW updating it");
        }
        this.params = List.copyOf(params);
        this.config = config;
        for (Tensor p : this.params) {
            m.add(Tensor.zeros(arena, p.device(), p.shape().dims()));
            v.add(Tensor.zeros(arena, p.device(), p.shape().dims()));
        }
    }

    public Config config() {
        return config;
    }

    /** Steps taken so far. */
    public long stepCount() {
        return step;
    }

    /** One update at the configured learning rate. */
    public void step() {
        step(config.lr());
    }

    /** One update at learning rate {@code lr} (for schedules); parameters without a gradient are left alone. */
    public void step(double lr) {
        step++;
        AdamWStep s = AdamWStep.of(lr, config.beta1(), config.beta2(), config.eps(), config.weightDecay(), step);
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            if (p.grad() != null) {
                Backends.of(p.device()).adamwStep(p, p.grad(), m.get(i), v.get(i), s);
            }
        }
    }

    /** Sets every gradient to zero (keeping the buffers). */
    public void zeroGrad() {
        for (Tensor p : params) {
            if (p.grad() != null) {
                Backends.of(p.device()).fill(p.grad(), 0f);
            }
        }
    }

    /** Resumes the step count of a checkpointed run (with the moments restored through {@link #firstMoment}). */
    public void restoreStepCount(long steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("step count must be >= 0, got " + steps);
        }
        this.step = steps;
    }

    /** The parameters, in the order their moments are indexed. */
    public List<Tensor> parameters() {
        return params;
    }

    /** The first and second moments of parameter {@code i}. */
    public Tensor firstMoment(int i) {
        return m.get(i);
    }

    public Tensor secondMoment(int i) {
        return v.get(i);
    }

    @Override
    public void close() {
        arena.close();
    }
}
