#!/usr/bin/env python3
"""The CPU peer of TrainingStepBench: one fine-tuning step of a LLaMA in PyTorch on the CPU, timed in the same
session as sbora4j's benchmark.

The model is HF's LlamaForCausalLM written out (RMSNorm, rotate_half RoPE, grouped-query causal attention in
eager form, SwiGLU MLP; Debian's torch predates scaled_dot_product_attention), frozen, with adapters on all seven
projections of every block, as sbora4j's step: lora (A Kaiming-uniform, B), sbora-fa (x[:, idx] @ B^T, a gather and
one small GEMM) or sbora-fb (an index_add_ of x @ A^T into the output columns idx). One step: forward,
cross-entropy over every token, backward, AdamW on the adapter parameters, zero the gradients.

Shapes: tiny (hidden 512, intermediate 1376, 4 layers, 8 / 4 heads, vocab 320, batch 8 x 128) and layer1b (one
decoder layer of TinyLlama-1.1B: 2048 / 5632, 32 / 4 heads, vocab 32000, batch 1 x 256) and full1b (all 22 layers
of it, 4.4 GB of f32 weights).

Usage: python3 bench/peers/train_step_cpu.py --threads 2 --out peers-cpu.json [--shape tiny] [--method lora]
Needs torch (Debian: python3-torch, with libopenblas0-pthread, or it falls back to the reference BLAS)."""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

SHAPES = {
    "tiny": dict(hidden=512, inter=1376, layers=4, heads=8, kv=4, vocab=320, batch=8, seq=128),
    "layer1b": dict(hidden=2048, inter=5632, layers=1, heads=32, kv=4, vocab=32000, batch=1, seq=256),
    "full1b": dict(hidden=2048, inter=5632, layers=22, heads=32, kv=4, vocab=32000, batch=1, seq=256),
}
PROJECTIONS = ("q", "k", "v", "o", "gate", "up", "down")


class Adapted(torch.nn.Module):
    """A frozen linear layer (W: out x in) with one adapter beside it."""

    def __init__(self, w, method, r, alpha, gen):
        super().__init__()
        self.w = torch.nn.Parameter(w, requires_grad=False)
        self.method, self.s = method, alpha / r
        out, inp = w.shape
        if method == "lora":
            bound = 1 / math.sqrt(inp)
            self.a = torch.nn.Parameter((torch.rand(r, inp, generator=gen) * 2 - 1) * bound)
            self.b = torch.nn.Parameter(torch.randn(out, r, generator=gen) * 0.01)
        elif method == "sbora-fa":
            self.register_buffer("idx", torch.randperm(inp, generator=gen)[:r].sort().values)
            self.b = torch.nn.Parameter(torch.randn(out, r, generator=gen) * 0.01)
        elif method == "sbora-fb":
            self.register_buffer("idx", torch.randperm(out, generator=gen)[:r].sort().values)
            self.a = torch.nn.Parameter(torch.randn(r, inp, generator=gen) * 0.01)

    def forward(self, x):
        y = F.linear(x, self.w)
        if self.method == "lora":
            y = y + self.s * F.linear(F.linear(x, self.a), self.b)
        elif self.method == "sbora-fa":
            y = y + self.s * F.linear(x.index_select(-1, self.idx), self.b)
        elif self.method == "sbora-fb":
            y = y.index_add(-1, self.idx, self.s * F.linear(x, self.a))
        return y


def rms_norm(x, w, eps=1e-6):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Llama(torch.nn.Module):
    def __init__(self, c, method, r, gen):
        super().__init__()
        self.c = c
        h, i, hd = c["hidden"], c["inter"], c["hidden"] // c["heads"]
        std = 0.02
        self.embed = torch.nn.Parameter(torch.randn(c["vocab"], h, generator=gen) * std, requires_grad=False)
        self.head = torch.nn.Parameter(torch.randn(c["vocab"], h, generator=gen) * std, requires_grad=False)
        self.norm = torch.nn.Parameter(torch.ones(h), requires_grad=False)
        shapes = {"q": (h, h), "k": (c["kv"] * hd, h), "v": (c["kv"] * hd, h), "o": (h, h), "gate": (i, h),
                  "up": (i, h), "down": (h, i)}
        self.blocks = torch.nn.ModuleList()
        for _ in range(c["layers"]):
            b = torch.nn.Module()
            for p in PROJECTIONS:
                setattr(b, p, Adapted(torch.randn(*shapes[p], generator=gen) * std, method, r, 2 * r, gen))
            b.n1 = torch.nn.Parameter(torch.ones(h), requires_grad=False)
            b.n2 = torch.nn.Parameter(torch.ones(h), requires_grad=False)
            self.blocks.append(b)
        inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.outer(torch.arange(c["seq"]).float(), inv)
        emb = torch.cat((ang, ang), dim=-1)
        self.register_buffer("cos", emb.cos())
        self.register_buffer("sin", emb.sin())
        self.register_buffer("mask", torch.full((c["seq"], c["seq"]), float("-inf")).triu(1))

    def forward(self, ids):
        c = self.c
        bsz, t = ids.shape
        hd, g = c["hidden"] // c["heads"], c["heads"] // c["kv"]
        x = F.embedding(ids, self.embed)
        for b in self.blocks:
            hn = rms_norm(x, b.n1)
            q = b.q(hn).view(bsz, t, c["heads"], hd).transpose(1, 2)
            k = b.k(hn).view(bsz, t, c["kv"], hd).transpose(1, 2)
            v = b.v(hn).view(bsz, t, c["kv"], hd).transpose(1, 2)
            q = q * self.cos + rotate_half(q) * self.sin
            k = k * self.cos + rotate_half(k) * self.sin
            k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + self.mask, dim=-1)
            x = x + b.o((att @ v).transpose(1, 2).reshape(bsz, t, -1))
            hn = rms_norm(x, b.n2)
            x = x + b.down(F.silu(b.gate(hn)) * b.up(hn))
        return F.linear(rms_norm(x, self.norm), self.head)


def bench(shape, method, r, steps, warmup):
    c = SHAPES[shape]
    gen = torch.Generator().manual_seed(0)
    model = Llama(c, method, r, gen)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    ids = torch.randint(0, c["vocab"], (c["batch"], c["seq"]), generator=gen)
    targets = torch.randint(0, c["vocab"], (c["batch"] * c["seq"],), generator=gen)

    def step():
        loss = F.cross_entropy(model(ids).view(-1, c["vocab"]), targets)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=False)

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    tokens = c["batch"] * c["seq"]
    return {"shape": shape, "method": method, "r": r, "threads": torch.get_num_threads(), "ms_per_step": med * 1e3,
            "tokens_per_s": tokens / med, "min_ms": times[0] * 1e3, "max_ms": times[-1] * 1e3, "steps": steps,
            "torch": torch.__version__, "blas": blas()}


def blas():
    """The BLAS library this process loaded (Debian's torch uses whatever libblas.so.3 points to)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return ", ".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--shape", default="tiny,layer1b")
    ap.add_argument("--method", default="lora,sbora-fa,sbora-fb")
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    rows = []
    for shape in a.shape.split(","):
        for method in a.method.split(","):
            row = bench(shape, method, a.r, a.steps, a.warmup)
            print(json.dumps(row), flush=True)
            rows.append(row)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
