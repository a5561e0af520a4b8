#!/usr/bin/env python3
"""Rewrites CUDA sources into C++ that compiles against cuda_emu.h (the emulated tests, cuda-kernels/README.md).

    emulate.py OUT_DIR FILE...
    emulate.py --mutant NAME OUT_DIR FILE      the same, with the planted bug NAME (see MUTANTS) in FILE
    emulate.py --list-mutants                  one line per mutant: name, file, test groups, the check it must fail,
                                               the file compiled (file, or the .cu that includes it), race-only (0/1)

Each FILE (a .cu or .cuh) is written to OUT_DIR under the same name (a .cu gets .cpp appended), with a #line
directive so that diagnostics point at the original, and with three rewrites outside comments and strings:

  kernel<T><<<grid, block, smem, stream>>>(args)
      -> ::sbc_emu::launch("kernel<T>", ::sbc_emu::LaunchConfig{grid, block, smem, stream},
                           [&](auto &&...p) { kernel<T>(p...); }, args)
  __shared__ __align__(A) T name[N]...;
      -> static ::sbc_emu::SharedArray<T[N]..., A> name_sbc_emu{"name"}; T (&name)[N]... = name_sbc_emu.get();
  extern __shared__ T name[];       -> T *name = static_cast<T *>(::sbc_emu::dynamic_shared());

Any other `__shared__` is refused: the emulator runs several blocks at once, each with its own shared memory, which
only the two forms above get.

Line numbers are kept: a rewritten launch keeps the newlines of its configuration and arguments.
A file is rewritten only when its content changes, so that the build does not recompile for nothing.

Mutants are the emulator's own tests: each plants one bug of a kind the emulated tests must catch, in a copy of one
kernel file, and CMake builds sbc_emu_tests again with it (cuda-emu/mutants/); the build fails when the text it
replaces is no longer in the file (exactly once), so that a mutant cannot silently stop applying.
"""
import os
import re
import sys
from collections import namedtuple

Mutant = namedtuple("Mutant", "file old new groups expect unit race_only", defaults=(None, False))

# name -> one replacement in one file; `groups`: the sbc_emu_tests groups that run the kernel; `expect`: a regular
# expression that some FAIL line of those groups must match (the check that catches the bug); `unit`: the .cu file
# compiled, when `file` is a header it includes; `race_only`: the bug shows only to the race checker (cuda_emu.cpp),
# so the mutant passes the tests with SBC_EMU_RACECHECK=0 (ctest checks that it does).
MUTANTS = {
    # dot's blocks add their partial sums into *out without an atomic: concurrent blocks lose each other's updates.
    # A plain `*out += s` is a load and a store, which the emulator cannot interrupt; plain_add is that load and
    # store with a yield between them, where a GPU runs other threads.
    "atomic_as_plain_add": Mutant(
        "reductions.cu",
        "    if (threadIdx.x == 0) atomicAdd(out, s);",
        "    if (threadIdx.x == 0) ::sbc_emu::plain_add(out, s);",
        "reductions",
        r"^FAIL dot n="),
    # The transpose reads the tile before the other warps have written their rows of it.
    "no_barrier": Mutant(
        "matrix_ops.cu",
        "            if (i < rows && j < cols) tile[k][threadIdx.x] = x[i * cols + j];\n        }\n        __syncthreads();\n",
        "            if (i < rows && j < cols) tile[k][threadIdx.x] = x[i * cols + j];\n        }\n\n",
        "matrix",
        r"^FAIL transpose"),
    # The gather GEMM's column blocks other than the first read x[:, idx] from xs, which the first column block of
    # the same launch writes: right only when that block happens to run first.
    "cross_block_read": Mutant(
        "fused_gemm.cu",
        "                v = load_f32(p);\n",
        "                v = GATHER && xs != nullptr && blockIdx.y != 0 ? load_f32(xs + gi * ldxs + gk) : load_f32(p);\n",
        "fused",
        r"^FAIL gather_gemm .* with xs"),
    # The tensor-core epilogue's second __syncwarp removed: the next fragment's store_matrix_sync rewrites the staging
    # tile while other lanes of the warp may still read the previous fragment from it (a write-after-read hazard in
    # shared memory). The emulator's results stay right, since its wmma calls wait for the whole warp; only the race
    # checker sees that nothing orders the lanes' accesses (independent thread scheduling).
    "shared_race_no_syncwarp": Mutant(
        "fused_gemm_tc.cuh",
        "            __syncwarp(); // the staging tile is rewritten by the next fragment\n",
        "\n",
        "fused",
        r"^FAIL .*racecheck: write-after-read hazard on shared memory stage",
        unit="fused_gemm.cu", race_only=True),
    # dot's blocks add their partial sums into *out with a plain `*out += s`: a load and a store, which the emulator
    # runs without a switch between them, so no update is lost here; on a GPU concurrent blocks lose each other's.
    # Only the race checker sees one block read what another block of the launch wrote (a global-memory hazard).
    "global_race_plain_add": Mutant(
        "reductions.cu",
        "    if (threadIdx.x == 0) atomicAdd(out, s);",
        "    if (threadIdx.x == 0) *out += s;",
        "reductions",
        r"^FAIL dot n=.*racecheck: [a-z]+-after-write hazard on global memory",
        race_only=True),
}


def code_mask(src):
    """src with comments, string and character literals blanked (newlines kept): where the rewrites may look."""
    out = list(src)
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            j += 1
        else:
            i += 1
            continue
        for k in range(i, min(j, n)):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def fail(path, src, pos, msg):
    line = src.count("\n", 0, pos) + 1
    sys.exit(f"{path}:{line}: emulate.py: {msg}")


def matching(masked, start, open_ch, close_ch, step):
    """Index of the bracket that balances the one at `start`, scanning forward (step 1) or backward (-1)."""
    depth, i = 0, start
    while 0 <= i < len(masked):
        if masked[i] == open_ch:
            depth += 1
        elif masked[i] == close_ch:
            depth -= 1
            if depth == 0:
                return i
        i += step
    return -1


def rewrite_launches(path, src, masked):
    edits = []
    for m in re.finditer(r"<<<", masked):
        lt = m.start()
        # The kernel: an identifier (maybe qualified), maybe with template arguments, just before <<<.
        j = lt - 1
        while j >= 0 and masked[j].isspace():
            j -= 1
        if masked[j] == ">":
            j = matching(masked, j, ">", "<", -1)
            if j < 0:
                fail(path, src, lt, "unbalanced template arguments before <<<")
            j -= 1
        while j >= 0 and (masked[j].isalnum() or masked[j] in "_:"):
            j -= 1
        name_start = j + 1
        name = src[name_start:lt].strip()
        if not re.match(r"[A-Za-z_]", name):
            fail(path, src, lt, "no kernel name before <<<")
        gt = masked.find(">>>", lt + 3)
        if gt < 0:
            fail(path, src, lt, "<<< without >>>")
        config = src[lt + 3:gt]
        k = gt + 3
        while k < len(masked) and masked[k].isspace():
            k += 1
        if k >= len(masked) or masked[k] != "(":
            fail(path, src, gt, "no argument list after >>>")
        close = matching(masked, k, "(", ")", 1)
        if close < 0:
            fail(path, src, k, "unbalanced kernel arguments")
        args = src[k + 1:close]
        gap = src[gt + 3:k] or " "  # whitespace, possibly newlines
        label = " ".join(name.split())
        text = (f'::sbc_emu::launch("{label}", ::sbc_emu::LaunchConfig{{{config}}},{gap}'
                f"[&](auto &&...sbc_emu_p) {{ {name}(sbc_emu_p...); }}")
        text += (", " + args if args.strip() else "") + ")"
        edits.append((name_start, close + 1, text))
    return edits


SHARED_EXTERN = re.compile(
    r"extern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s+)?(?P<type>[A-Za-z_][\w:\s]*?)\s+(?P<name>\w+)\s*"
    r"\[\s*\]\s*;")
SHARED_STATIC = re.compile(
    r"__shared__\s+(?:__align__\s*\(\s*(?P<align>\d+)\s*\)\s+)?(?P<type>[A-Za-z_][\w:\s]*?)\s+(?P<name>\w+)\s*"
    r"(?P<dims>(?:\[[^\]\n]*\]\s*)+);")


def rewrite_shared(src, masked):
    edits, taken = [], []
    for m in SHARED_EXTERN.finditer(masked):
        t = " ".join(m["type"].split())
        edits.append((m.start(), m.end(), f"{t} *{m['name']} = static_cast<{t} *>(::sbc_emu::dynamic_shared());"))
        taken.append((m.start(), m.end()))
    for m in SHARED_STATIC.finditer(masked):
        if any(a <= m.start() < b for a, b in taken):
            continue
        t, name = " ".join(m["type"].split()), m["name"]
        dims = re.sub(r"\]\s*\[", "][", " ".join(m["dims"].split()))
        align = m["align"] or 0
        edits.append((m.start(), m.end(), f"static ::sbc_emu::SharedArray<{t}{dims}, {align}> {name}_sbc_emu{{\"{name}\"}}; "
                                          f"{t} (&{name}){dims} = {name}_sbc_emu.get();"))
    return edits


def mutate(path, src, name):
    m = MUTANTS[name]
    count = src.count(m.old)
    if count != 1:
        sys.exit(f"{path}: emulate.py: mutant {name}: the text it replaces occurs {count} times, not once")
    if m.old.count("\n") != m.new.count("\n"):
        sys.exit(f"emulate.py: mutant {name} changes the number of lines")
    return src.replace(m.old, m.new)


def convert(path, mutant=None):
    with open(path, encoding="utf-8") as f:
        src = f.read()
    if mutant is not None:
        src = mutate(path, src, mutant)
    masked = code_mask(src)
    edits = sorted(rewrite_launches(path, src, masked) + rewrite_shared(src, masked))
    out, pos = [], 0
    for start, end, text in edits:
        if start < pos:
            fail(path, src, start, "overlapping rewrites")
        out.append(src[pos:start])
        lost = src.count("\n", start, end) - text.count("\n")
        out.append(text + "\n" * max(lost, 0))
        pos = end
    out.append(src[pos:])
    text = "".join(out)
    left = re.search(r"\b__shared__\b", code_mask(text))
    if left:
        fail(path, text, left.start(), "a __shared__ that is not an array (`__shared__ T name[N];`)")
    return f'#line 1 "{os.path.abspath(path)}"\n' + text


def main(argv):
    if argv[1:] == ["--list-mutants"]:
        for name, m in MUTANTS.items():
            print(f"{name}|{m.file}|{m.groups}|{m.expect}|{m.unit or m.file}|{int(m.race_only)}")
        return
    mutant = None
    if len(argv) > 2 and argv[1] == "--mutant":
        mutant = argv[2]
        if mutant not in MUTANTS:
            sys.exit(f"emulate.py: unknown mutant {mutant}")
        argv = argv[:1] + argv[3:]
    if len(argv) < 3:
        sys.exit(__doc__)
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for path in argv[2:]:
        base = os.path.basename(path)
        target = os.path.join(out_dir, base + ".cpp" if base.endswith(".cu") else base)
        text = convert(path, mutant if mutant and base == MUTANTS[mutant].file else None)
        try:
            with open(target, encoding="utf-8") as f:
                if f.read() == text:
                    continue
        except FileNotFoundError:
            pass
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main(sys.argv)
