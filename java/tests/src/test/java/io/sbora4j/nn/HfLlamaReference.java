package io.sbora4j.nn;

import java.util.Map;

/**
 * An independent, deliberately plain implementation of HF's LlamaForCausalLM forward pass (transformers
 * modeling_llama.py), in double precision over float[] weights: no tensors, no kernels, nothing shared with the
 * library but the weight names. It exists to check the library's logits.
 */
final class HfLlamaReference {

    private final LlamaConfig c;
    private final Map<String, float[]> w;

    HfLlamaReference(LlamaConfig c, Map<String, float[]> weights) {
        this.c = c;
        this.w = weights;
    }

    /** Logits [seq][vocab] of one sequence. */
    double[][] logits(int[] ids) {
        int t = ids.length, h = c.hiddenSize();
        double[][] x = new double[t][h];
        float[] emb = w.get("model.embed_tokens.weight");
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < h; j++) {
                x[i][j] = emb[ids[i] * h + j];
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] n1 = rmsNorm(x, w.get(p + "input_layernorm.weight"));
            double[][] q = linear(n1, p + "self_attn.q_proj.weight");
            double[][] k = linear(n1, p + "self_attn.k_proj.weight");
            double[][] v = linear(n1, p + "self_attn.v_proj.weight");
            rotate(q, c.heads());
            rotate(k, c.kvHeads());
            double[][] attn = attention(q, k, v);
            add(x, linear(attn, p + "self_attn.o_proj.weight"));
            double[][] n2 = rmsNorm(x, w.get(p + "post_attention_layernorm.weight"));
            double[][] gate = linear(n2, p + "mlp.gate_proj.weight");
            double[][] up = linear(n2, p + "mlp.up_proj.weight");
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < gate[i].length; j++) {
                    double g = gate[i][j];
                    gate[i][j] = g / (1 + Math.exp(-g)) * up[i][j]; // act_fn(gate_proj(x)) * up_proj(x), SiLU
                }
            }
            add(x, linear(gate, p + "mlp.down_proj.weight"));
        }
        double[][] n = rmsNorm(x, w.get("model.norm.weight"));
        return linear(n, c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight");
    }

    private double[][] rmsNorm(double[][] x, float[] weight) {
        double[][] y = new double[x.length][x[0].length];
        for (int i = 0; i < x.length; i++) {
            double ms = 0;
            for (double v : x[i]) {
                ms += v * v;
            }
            double r = 1 / Math.sqrt(ms / x[i].length + c.rmsNormEps());
            for (int j = 0; j < x[i].length; j++) {
                y[i][j] = weight[j] * (x[i][j] * r);
            }
        }
        return y;
    }

    /** nn.Linear: y = x Wᵀ with W (out x in). */
    private double[][] linear(double[][] x, String name) {
        float[] wt = w.get(name);
        int in = x[0].length, out = wt.length / in;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int j = 0; j < in; j++) {
                    s += x[i][j] * wt[o * in + j];
                }
                y[i][o] = s;
            }
        }
        return y;
    }

    /** apply_rotary_pos_emb: q*cos + rotate_half(q)*sin, rotate_half(x) = cat(-x2, x1). */
    private void rotate(double[][] x, int heads) {
        int d = c.headDim(), half = d / 2;
        for (int pos = 0; pos < x.length; pos++) {
            for (int hd = 0; hd < heads; hd++) {
                double[] r = new double[d];
                for (int j = 0; j < d; j++) {
                    int jj = j % half;
                    double invFreq = 1 / Math.pow(c.ropeTheta(), (2.0 * jj) / d);
                    double angle = pos * invFreq;
                    double rotHalf = j < half ? -x[pos][hd * d + j + half] : x[pos][hd * d + j - half];
                    r[j] = x[pos][hd * d + j] * Math.cos(angle) + rotHalf * Math.sin(angle);
                }
                System.arraycopy(r, 0, x[pos], hd * d, d);
            }
        }
    }

    /** Causal softmax attention; repeat_kv maps query head h to kv head h / (heads / kvHeads). */
    private double[][] attention(double[][] q, double[][] k, double[][] v) {
        int t = q.length, d = c.headDim(), groups = c.heads() / c.kvHeads();
        double[][] out = new double[t][c.heads() * d];
        for (int h = 0; h < c.heads(); h++) {
            int g = h / groups;
            for (int i = 0; i < t; i++) {
                double[] s = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int u = 0; u <= i; u++) {
                    double dot = 0;
                    for (int j = 0; j < d; j++) {
                        dot += q[i][h * d + j] * k[u][g * d + j];
                    }
                    s[u] = dot / Math.sqrt(d);
                    max = Math.max(max, s[u]);
                }
                double sum = 0;
                for (int u = 0; u <= i; u++) {
                    s[u] = Math.exp(s[u] - max);
                    sum += s[u];
                }
                for (int u = 0; u <= i; u++) {
                    for (int j = 0; j < d; j++) {
                        out[i][h * d + j] += s[u] / sum * v[u][g * d + j];
                    }
                }
            }
        }
        return out;
    }

    private static void add(double[][] x, double[][] y) {
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] += y[i][j];
            }
        }
    }
}
