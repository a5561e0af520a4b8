package io.sbora4j.backend;

/**
 * The scalars of one AdamW step, computed in double by the optimizer exactly as torch.optim.AdamW does and passed
 * to the fused kernel: {@code p = p*decay - stepSize * m / (sqrt(v)/biasCorrection2Sqrt + eps)}.
 *
 * @param decay               {@code 1 - lr * weightDecay}
 * @param stepSize            {@code lr / (1 - beta1^t)}
 * @param biasCorrection2Sqrt {@code sqrt(1 - beta2^t)}
 */
public record AdamWStep(float beta1, float beta2, float eps, float decay, float stepSize, float biasCorrection2Sqrt) {

    /** The scalars of step {@code t} (1-based). */
    public static AdamWStep of(double lr, double beta1, double beta2, double eps, double weightDecay, long t) {
        if (t < 1) {
            throw new IllegalArgumentException("AdamW step count starts at 1, got " + t);
        }
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        return new AdamWStep(
                (float) beta1, (float) beta2, (float) eps, (float) (1 - lr * weightDecay), (float) (lr / bc1), (float)
                        Math.sqrt(bc2));
    }
}
