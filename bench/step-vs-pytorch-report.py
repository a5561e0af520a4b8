#!/usr/bin/env python3
"""Reads the output of bench/step-vs-pytorch.sh and writes a markdown table (stdout) and an SVG bar chart of sbora4j's
tokens per second over PyTorch's, for each OPENBLAS_CORETYPE setting, shape and method. Standard library only.

Usage: python3 bench/step-vs-pytorch-report.py RAW.txt [CHART.svg]"""
import json
import re
import sys

OURS = re.compile(r"^coretype=(\S+) sbora4j (\S+) (\S+) threads=\S+ loss=\S+: ([\d.]+) ms/step \(median ([\d.]+).*?"
                  r"([\d.]+) tokens/s, cpu ([\d.]+) ms/step, cpu/wall ([\d.]+) cores; GEMMs alone median ([\d.]+) ms")
PEER = re.compile(r"^coretype=(\S+) pytorch (\{.*\})$")


def read(path):
    rows = {}
    with open(path) as f:
        for line in f:
            m = OURS.match(line)
            if m:
                ct, shape, method = m.group(1, 2, 3)
                rows.setdefault((ct, shape, method), {}).update(
                    ours_tps=float(m.group(6)), ours_ms=float(m.group(5)), cores=float(m.group(8)),
                    gemm_ms=float(m.group(9)))
                continue
            m = PEER.match(line)
            if m:
                peer = json.loads(m.group(2))
                rows.setdefault((m.group(1), peer["shape"], peer["method"]), {}).update(
                    torch_tps=peer["tokens_per_s"], torch_ms=peer["ms_per_step"])
    return rows


def table(rows):
    out = ["| `OPENBLAS_CORETYPE` | shape | method | sbora4j tokens/s | PyTorch tokens/s | sbora4j / PyTorch | "
           "sbora4j vs its LoRA | step / its GEMMs alone | cores busy |",
           "|---|---|---|---|---|---|---|---|---|"]
    for (ct, shape, method), r in rows.items():
        lora = rows.get((ct, shape, "lora"), {}).get("ours_tps")
        vs_lora = f"{r['ours_tps'] / lora:.2f}x" if lora and method != "lora" else "—"
        ratio = f"{r['ours_tps'] / r['torch_tps']:.2f}x" if "torch_tps" in r and "ours_tps" in r else "—"
        out.append(f"| {ct} | {shape} | {method} | {r.get('ours_tps', 0):.0f} | {r.get('torch_tps', 0):.0f} | {ratio} "
                   f"| {vs_lora} | {r['ours_ms'] / r['gemm_ms']:.2f} | {r['cores']:.2f} |")
    return "\n".join(out)


def svg(rows):
    """Bars of sbora4j's tokens/s over PyTorch's, one per (coretype, shape, method), with lines at 1x and 3x."""
    groups = [(k, r["ours_tps"] / r["torch_tps"]) for k, r in rows.items() if r.get("torch_tps") and r.get("ours_tps")]
    bar, gap, height, left, top = 22, 10, 260, 50, 34
    width = left + len(groups) * (bar + gap) + 20
    peak = max(4.0, max(v for _, v in groups) * 1.1)
    scale = height / peak
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + height + 140}" '
             f'font-family="sans-serif" font-size="10">',
             f'<text x="{left}" y="14" font-size="12">Training step on 2 threads: sbora4j tokens/s over PyTorch 1.13\'s '
             f'(same machine, back to back)</text>',
             f'<text x="{left}" y="28">dark: OPENBLAS_CORETYPE=Haswell, light: unset; dashed: 1x and the 3x target</text>']
    for v in range(0, int(peak) + 1):
        y = top + height - v * scale
        parts.append(f'<text x="{left - 6}" y="{y + 3:.1f}" text-anchor="end">{v}x</text>')
        dash = ' stroke-dasharray="4,3" stroke="#c00"' if v in (1, 3) else ' stroke="#ddd"'
        parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}"{dash}/>')
    for i, ((ct, shape, method), v) in enumerate(groups):
        x = left + i * (bar + gap)
        h = v * scale
        colour = "#1f4e79" if ct != "unset" else "#6fa8dc"
        parts.append(f'<rect x="{x}" y="{top + height - h:.1f}" width="{bar}" height="{h:.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x + bar / 2}" y="{top + height - h - 3:.1f}" text-anchor="middle">{v:.1f}</text>')
        parts.append(f'<text transform="translate({x + bar / 2},{top + height + 8}) rotate(60)">{shape} {method}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main():
    rows = read(sys.argv[1])
    print(table(rows))
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write(svg(rows))


if __name__ == "__main__":
    main()
