#!/usr/bin/env python3
"""The peer of AdapterLayerBench on a GPU: one nn.Linear(d, d, bias=False) with a PEFT LoRA adapter, forward +
backward (dx computed, base frozen), timed with CUDA events in the same session as sbora4j's benchmarks.

Methods: base (the frozen layer alone), lora (PEFT's defaults: on a bf16 model PEFT keeps the adapter weights in
f32 and computes the adapter path in f32, its autocast_adapter_dtype=True), lora-bf16 (adapter weights in bf16
too: autocast_adapter_dtype=False, PEFT's fastest form; the fair peer of sbora4j's bf16 path, which multiplies
bf16 by bf16 with f32 master factors), dora.

Usage: python3 bench/peers/peft_lora.py --out peers.json [--dtype bf16|f32] [--tokens 4096]
Prints one line per configuration and writes them as JSON. Needs torch and peft (both on the GPU machine)."""
import argparse
import json
import time

import torch
from peft import LoraConfig, get_peft_model


def step(model, x, dy):
    y = model(x)
    y.backward(dy)


def bench(d_in, d_out, r, tokens, dtype, method, iters, warmup):
    torch.manual_seed(0)
    base = torch.nn.Sequential(torch.nn.Linear(d_in, d_out, bias=False)).cuda().to(dtype)
    if method == "base":
        for p in base.parameters():
            p.requires_grad_(False)
        model = base
    else:
        cfg = LoraConfig(r=r, lora_alpha=2 * r, target_modules=["0"], lora_dropout=0.0,
                         use_dora=(method == "dora"))
        if method == "lora-bf16":
            try:
                model = get_peft_model(base, cfg, autocast_adapter_dtype=False)
            except TypeError:  # a PEFT older than 0.12 has no such switch and keeps the model's dtype anyway
                model = get_peft_model(base, cfg)
        else:
            model = get_peft_model(base, cfg)
        for n, p in model.named_parameters():
            if "lora_B" in n:
                torch.nn.init.normal_(p, std=0.01)
    x = torch.randn(tokens, d_in, device="cuda", dtype=dtype, requires_grad=True)
    dy = torch.randn(tokens, d_out, device="cuda", dtype=dtype)
    for _ in range(warmup):
        step(model, x, dy)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(iters):
        start.record()
        step(model, x, dy)
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    adapter_dtype = next((str(p.dtype) for n, p in model.named_parameters() if "lora_A" in n), None)
    return {"method": method, "adapter_dtype": adapter_dtype, "d_in": d_in, "d_out": d_out, "r": r, "tokens": tokens, "dtype": str(dtype),
            "median_ms": times[len(times) // 2], "min_ms": times[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="peers.json")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "f32"])
    ap.add_argument("--tokens", type=int, default=4096)
    ap.add_argument("--iters", type=int, default=50)
    args = ap.parse_args()
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    results = []
    for d_in, d_out in [(4096, 4096), (4096, 11008)]:
        methods = ["base", "lora", "lora-bf16", "dora"] if dtype == torch.bfloat16 else ["base", "lora", "dora"]
        for method in methods:
            for r in ([0] if method == "base" else [32, 64]):
                res = bench(d_in, d_out, max(r, 1), args.tokens, dtype, method, args.iters, 10)
                results.append(res)
                print(json.dumps(res), flush=True)
    with open(args.out, "w") as f:
        json.dump({"torch": torch.__version__, "device": torch.cuda.get_device_name(0),
                   "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
