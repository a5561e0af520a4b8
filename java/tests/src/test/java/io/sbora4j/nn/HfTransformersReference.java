package io.sbora4j.nn;

import java.util.Map;

/**
 * A plain double-precision transcription of the forward pass of Hugging Face transformers' LlamaForCausalLM,
 * MistralForCausalLM and Qwen2ForCausalLM (modeling_llama.py, modeling_mistral.py, modeling_qwen2.py) and of the rope
 * initialisers of modeling_rope_utils.py, for one unpadded sequence with position_ids 0..n-1. It is written from the
 * Python code, not from this library's, and shares nothing with it: the weights come in as float arrays by HF name and
 * the spec as plain values, so that a test comparing the two compares two independent readings of HF.
 */
final class HfTransformersReference {

    /** What config.json says, as HF's config classes hold it. */
    record Spec(
            int vocab,
            int hidden,
            int intermediate,
            int layers,
            int heads,
            int kvHeads,
            int headDim,
            double eps,
            double theta,
            int maxPositionEmbeddings,
            boolean tie,
            String ropeType, // "default", "linear", "dynamic", "llama3"
            double factor,
            double lowFreqFactor,
            double highFreqFactor,
            int originalMaxPositionEmbeddings,
            boolean qkvBias, // Qwen2Attention: q_proj, k_proj, v_proj with bias=True
            int slidingWindow) {} // 0: none

    private final Spec s;
    private final Map<String, float[]> w;

    HfTransformersReference(Spec spec, Map<String, float[]> weights) {
        this.s = spec;
        this.w = weights;
    }

    /** The logits (seq x vocab) of {@code ids}. */
    double[][] logits(int[] ids) {
        int n = ids.length;
        double[][] x = new double[n][];
        float[] embed = w.get("model.embed_tokens.weight");
        for (int t = 0; t < n; t++) {
            x[t] = row(embed, ids[t], s.hidden());
        }
        double[] invFreq = invFreq(n);
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] h = rmsNorm(x, w.get(p + "input_layernorm.weight"));
            double[][] attn = attention(p, h, invFreq);
            double[][] o = linear(attn, w.get(p + "self_attn.o_proj.weight"), null, s.hidden());
            x = add(x, o);
            h = rmsNorm(x, w.get(p + "post_attention_layernorm.weight"));
            double[][] gate = linear(h, w.get(p + "mlp.gate_proj.weight"), null, s.intermediate());
            double[][] up = linear(h, w.get(p + "mlp.up_proj.weight"), null, s.intermediate());
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < s.intermediate(); i++) {
                    double g = gate[t][i];
                    gate[t][i] = g / (1 + Math.exp(-g)) * up[t][i]; // ACT2FN["silu"](gate) * up
                }
            }
            x = add(x, linear(gate, w.get(p + "mlp.down_proj.weight"), null, s.hidden()));
        }
        x = rmsNorm(x, w.get("model.norm.weight"));
        float[] head = s.tie() ? embed : w.get("lm_head.weight");
        return linear(x, head, null, s.vocab());
    }

    /**
     * ROPE_INIT_FUNCTIONS[rope_type](config, device, seq_len): for dynamic, dynamic_rope_update passes seq_len =
     * max(position_ids) + 1 and the NTK base applies when it exceeds max_position_embeddings.
     */
    double[] invFreq(int seqLen) {
        int dim = s.headDim();
        double base = s.theta();
        if (s.ropeType().equals("dynamic") && seqLen > s.maxPositionEmbeddings()) {
            double ratio = s.factor() * seqLen / s.maxPositionEmbeddings() - (s.factor() - 1);
            base = base * Math.pow(ratio, dim / (dim - 2.0));
        }
        double[] inv = new double[dim / 2];
        for (int i = 0; i < dim / 2; i++) {
            inv[i] = 1.0 / Math.pow(base, (2.0 * i) / dim);
        }
        switch (s.ropeType()) {
            case "linear" -> {
                for (int i = 0; i < inv.length; i++) {
                    inv[i] /= s.factor();
                }
            }
            case "llama3" -> {
                double oldContext = s.originalMaxPositionEmbeddings();
                double lowFreqWavelen = oldContext / s.lowFreqFactor();
                double highFreqWavelen = oldContext / s.highFreqFactor();
                for (int i = 0; i < inv.length; i++) {
                    double wavelen = 2 * Math.PI / inv[i];
                    double llama = wavelen > lowFreqWavelen ? inv[i] / s.factor() : inv[i];
                    double smooth =
                            (oldContext / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                    double smoothed = (1 - smooth) * llama / s.factor() + smooth * llama;
                    boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
                    inv[i] = medium ? smoothed : llama;
                }
            }
            case "default", "dynamic" -> {}
            default -> throw new IllegalArgumentException(s.ropeType());
        }
        return inv;
    }

    /** LlamaAttention.forward with eager_attention_forward and repeat_kv, for positions 0..n-1. */
    private double[][] attention(String p, double[][] h, double[] invFreq) {
        int n = h.length, d = s.headDim();
        String a = p + "self_attn.";
        double[][] q =
                linear(h, w.get(a + "q_proj.weight"), s.qkvBias() ? w.get(a + "q_proj.bias") : null, s.heads() * d);
        double[][] k =
                linear(h, w.get(a + "k_proj.weight"), s.qkvBias() ? w.get(a + "k_proj.bias") : null, s.kvHeads() * d);
        double[][] v =
                linear(h, w.get(a + "v_proj.weight"), s.qkvBias() ? w.get(a + "v_proj.bias") : null, s.kvHeads() * d);
        // LlamaRotaryEmbedding: freqs = position · inv_freq, emb = cat(freqs, freqs); apply_rotary_pos_emb
        for (int t = 0; t < n; t++) {
            double[] cos = new double[d], sin = new double[d];
            for (int i = 0; i < d; i++) {
                double f = t * invFreq[i % (d / 2)];
                cos[i] = Math.cos(f);
                sin[i] = Math.sin(f);
            }
            rotate(q[t], s.heads(), cos, sin);
            rotate(k[t], s.kvHeads(), cos, sin);
        }
        int groups = s.heads() / s.kvHeads(); // repeat_kv: query head hh reads key/value head hh / groups
        double scaling = Math.pow(d, -0.5);
        double[][] out = new double[n][s.heads() * d];
        for (int hh = 0; hh < s.heads(); hh++) {
            int kv = hh / groups;
            for (int i = 0; i < n; i++) {
                double[] scores = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    // causal_mask_function: kv_idx <= q_idx; sliding_window_overlay: kv_idx > q_idx - sliding_window
                    boolean allowed = j <= i && (s.slidingWindow() == 0 || j > i - s.slidingWindow());
                    if (!allowed) {
                        scores[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double dot = 0;
                    for (int c = 0; c < d; c++) {
                        dot += q[i][hh * d + c] * k[j][kv * d + c];
                    }
                    scores[j] = dot * scaling;
                    max = Math.max(max, scores[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    scores[j] = scores[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(scores[j] - max);
                    sum += scores[j];
                }
                for (int j = 0; j < n; j++) {
                    double pj = scores[j] / sum;
                    for (int c = 0; c < d; c++) {
                        out[i][hh * d + c] += pj * v[j][kv * d + c];
                    }
                }
            }
        }
        return out;
    }

    /** q·cos + rotate_half(q)·sin per head, rotate_half(x) = cat(-x[d/2:], x[:d/2]). */
    private void rotate(double[] x, int heads, double[] cos, double[] sin) {
        int d = s.headDim(), half = d / 2;
        for (int hh = 0; hh < heads; hh++) {
            int o = hh * d;
            double[] r = new double[d];
            for (int i = 0; i < d; i++) {
                double rotated = i < half ? -x[o + i + half] : x[o + i - half];
                r[i] = x[o + i] * cos[i] + rotated * sin[i];
            }
            System.arraycopy(r, 0, x, o, d);
        }
    }

    /** LlamaRMSNorm: weight · x / sqrt(mean(x²) + eps). */
    private double[][] rmsNorm(double[][] x, float[] weight) {
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double ms = 0;
            for (double v : x[t]) {
                ms += v * v;
            }
            double r = 1 / Math.sqrt(ms / x[t].length + s.eps());
            out[t] = new double[x[t].length];
            for (int i = 0; i < x[t].length; i++) {
                out[t][i] = weight[i] * (x[t][i] * r);
            }
        }
        return out;
    }

    /** nn.Linear: x · Wᵀ (+ b), W of shape (outFeatures, in). */
    private static double[][] linear(double[][] x, float[] weight, float[] bias, int outFeatures) {
        int in = x[0].length;
        double[][] out = new double[x.length][outFeatures];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < outFeatures; o++) {
                double acc = bias == null ? 0 : bias[o];
                for (int i = 0; i < in; i++) {
                    acc += x[t][i] * weight[o * in + i];
                }
                out[t][o] = acc;
            }
        }
        return out;
    }

    private static double[][] add(double[][] a, double[][] b) {
        double[][] out = new double[a.length][a[0].length];
        for (int t = 0; t < a.length; t++) {
            for (int i = 0; i < a[t].length; i++) {
                out[t][i] = a[t][i] + b[t][i];
            }
        }
        return out;
    }

    private static double[] row(float[] m, int r, int width) {
        double[] out = new double[width];
        for (int i = 0; i < width; i++) {
            out[i] = m[r * width + i];
        }
        return out;
    }
}
