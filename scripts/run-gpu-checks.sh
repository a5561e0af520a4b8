#!/usr/bin/env bash
# The GPU session in one script (copied into target/gpu-bundle by scripts/gpu-bundle.sh; runs with no JDK).
# Steps, most important first, so that a slow machine loses the least useful ones:
#    1. nvidia-smi and `sbora info` (is the cuda backend usable, and if not, why)
#    2. the CUDA tests: CudaBackendTest (every kernel against the reference backend) and CudaMixedPrecisionTest
#       (bf16 launchers, fused SBoRA GEMMs on both their tensor-core and SIMT forms, cublasGemmEx, memory pool, NF4
#       merges, a bf16 LLaMA)
#    3. JMH AdapterLayerBench on cuda, bf16, 4096 tokens, d = 4096, r 32 and 64, route fused:
#       base (fwd+bwd; it has no r), lora, lora-fa, sbora-fa, sbora-fb (fwd+bwd and adapter path alone) at
#       4096 x 4096, and fwd+bwd at LLaMA-7B's MLP shape 4096 -> 11008
#    4. the PyTorch + PEFT peer, bf16 (bench/peers/peft_lora.py: base, lora, dora at both shapes, r 32 and 64)
#    5. JMH GatherScatterBench at 131072 tokens (one launch moves 2-40x the 60 MB L2: bandwidth), bf16 and f32
#    6. JMH MergeBench on cuda, bf16 W, d = 4096, r 32 and 64: lora, sbora-fa, sbora-fb
#    7. JMH AdapterLayerBench route unfused (gather + cuBLAS) for sbora-fa and sbora-fb, both shapes
#    8. JMH AdapterLayerBench f32 at 4096 x 4096, r 32, with DoRA: DoRA refuses a bf16 weight (its norm runs in f32
#       only), so it is measured here, in f32 only, beside base, lora, sbora-fa and sbora-fb
#    9. the PyTorch + PEFT peer, f32
#   10. JMH GatherScatterBench at the layer's own 4096 tokens, bf16 (latency: launches of 1-10 us, data in L2)
#   11. the report tool (jmh/report, `gpu`): gpu-report.md from everything above (always runs, also after failures),
#       its targets and the H200's constants from the bundle's copy of docs/bench/targets.json and machines.json
# JMH runs 1 fork, 1 warmup and 3 measurement iterations of 300 ms per trial, failures recorded, not fatal.
#
# Expected runtime on one H200: about 7 minutes. A JMH trial costs ~4-5 s (fork, CUDA and cuBLAS start, seeded
# data, 1.2 s measured); 69 trials ~ 5 min, CUDA tests ~0.5-1 min, the two peers ~1-1.5 min, the report seconds.
# A step starts only while SBORA_GPU_DEADLINE_S (default 500 s) has time left for it and is killed at that
# deadline, so the script ends within ~510 s, inside a 600 s device call; what ran is reported either way.
#
# Results go to $OUT (default ./gpu-out), at most 8 files (what a device call brings back):
#   summary.txt      one line per step: ok / FAILED / TIMED OUT / SKIPPED, seconds, JMH trials that failed
#   log.txt          every step's output, in order (JUnit's tree with failures' stack traces, JMH's text)
#   junit-cuda.xml   the CUDA tests' JUnit XML report
#   jmh-gpu.json     every JMH result of the session, one JMH result file
#   peers-bf16.json, peers-f32.json   the PEFT peer's results
#   gpu-report.md    the report; again from the JSONs, from the repository's root:
#                      java -jar jmh/report/target/bench-report.jar gpu jmh-gpu.json \
#                        --peers peers-bf16.json,peers-f32.json --out gpu-report.md
# The exit code is the number of failed or timed-out steps.
#
# Usage there: OUT=$OUT bash target/gpu-bundle/run-gpu-checks.sh   (device call: carry target/gpu-bundle,
# timeout_s 600). SBORA_GPU_JMH_OPTS replaces the JMH timing options below.
set -u
B="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
WORK="$(mktemp -d)"   # per-step logs, per-command JMH results, JUnit's folder: only the above goes to $OUT
JAVA="$B/runtime/bin/java"
DEADLINE="${SBORA_GPU_DEADLINE_S:-500}"
JMH_OPTS="${SBORA_GPU_JMH_OPTS:--f 1 -wi 1 -i 3 -w 300ms -r 300ms}"
export PYTHONUNBUFFERED=1
if [ -z "${SBORA_CUDA_LIB_DIR:-}" ]; then
  SBORA_CUDA_LIB_DIR="$(python3 -c 'import nvidia.cublas, os; print(os.path.join(os.path.dirname(nvidia.cublas.__file__), "lib"))' 2>/dev/null || true)"
  if [ -z "$SBORA_CUDA_LIB_DIR" ]; then
    found="$(find / -name 'libcublas.so*' 2>/dev/null | head -n 1)"
    [ -n "$found" ] && SBORA_CUDA_LIB_DIR="$(dirname "$found")"
  fi
  [ -n "$SBORA_CUDA_LIB_DIR" ] && export SBORA_CUDA_LIB_DIR
fi
CP=""
for j in "$B"/lib/*.jar; do
  case "$(basename "$j")" in junit-platform-console-standalone*) ;; *) CP="${CP:+$CP:}$j" ;; esac
done

START=$(date +%s)
failed=0
LAST_RC=0
: > "$OUT/summary.txt"
: > "$OUT/log.txt"
note() { echo "$*" | tee -a "$OUT/summary.txt"; }

# run NAME NEED_S COMMAND...: skipped unless NEED_S seconds are left before the deadline; killed at the deadline.
run() {
  local name="$1" need="$2"; shift 2
  local t0 left rc
  t0=$(date +%s)
  left=$(( DEADLINE - (t0 - START) ))
  if [ "$left" -lt "$need" ]; then
    note "== $name: SKIPPED (${left} s left before the ${DEADLINE} s deadline, needs ~${need} s)"
    return 0
  fi
  echo "== $name (at $(( t0 - START )) s)"
  timeout -k 10 "$left" "$@" > "$WORK/$name.txt" 2>&1
  rc=$?
  LAST_RC=$rc
  local took=$(( $(date +%s) - t0 )) extra=""
  if grep -q '<failure>' "$WORK/$name.txt"; then
    extra=", $(grep -c '<failure>' "$WORK/$name.txt") JMH trial(s) failed: see log.txt"
  fi
  { echo "===== $name: rc $rc, $took s"; echo "\$ $*"; cat "$WORK/$name.txt"; echo; } >> "$OUT/log.txt"
  if [ "$rc" -eq 0 ]; then note "== $name: ok ($took s$extra)"
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then note "== $name: TIMED OUT at the deadline ($took s$extra)"; failed=$((failed + 1))
  else note "== $name: FAILED, rc $rc ($took s$extra): see log.txt"; failed=$((failed + 1)); fi
}

# jmh NAME NEED_S BENCHMARK-REGEX JMH-ARGS...: one JMH command, its results in $WORK/NAME.json
JMH_JSONS=()
jmh() {
  local name="$1" need="$2"; shift 2
  JMH_JSONS+=("$WORK/$name.json")
  # shellcheck disable=SC2086 # JMH_OPTS is a list of options
  run "$name" "$need" "$JAVA" -cp "$CP" org.openjdk.jmh.Main "$@" $JMH_OPTS -foe false -rf json -rff "$WORK/$name.json"
}

run nvidia-smi 5 nvidia-smi
run info 10 "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" io.sbora4j.cli.SboraCli info
run cuda-tests 30 "$JAVA" --enable-native-access=ALL-UNNAMED -jar "$B"/lib/junit-platform-console-standalone-*.jar \
  execute --class-path "$CP" --select-class io.sbora4j.cuda.CudaBackendTest \
  --select-class io.sbora4j.cuda.CudaMixedPrecisionTest --details=tree --disable-banner \
  --disable-ansi-colors --include-engine=junit-jupiter --reports-dir "$WORK/junit" --fail-if-no-tests
cp "$WORK"/junit/TEST-junit-jupiter.xml "$OUT/junit-cuda.xml" 2>/dev/null
if [ -f "$WORK/cuda-tests.txt" ]; then # JUnit exits 0 when every test was aborted, as without a usable GPU
  counts="$(grep -E '^\[ +[0-9]+ tests (successful|failed|aborted)' "$WORK/cuda-tests.txt" | tr -d '[]' \
    | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $3}')"
  note "   cuda-tests: ${counts:-no counts in the output}"
  if ! grep -qE '^\[ +[1-9][0-9]* tests successful' "$WORK/cuda-tests.txt"; then
    note "   cuda-tests: NO TEST PASSED (aborted: is the cuda backend usable? see info in log.txt)"
    [ "$LAST_RC" -eq 0 ] && failed=$((failed + 1)) # else already counted
  fi
fi

LAYER=(-p device=cuda -p d=4096 -p tokens=4096)
jmh jmh-layer-base 15 'AdapterLayerBench.forwardBackward' "${LAYER[@]}" -p dtype=bf16 -p method=base -p r=32 \
  -p dout=0,11008
jmh jmh-layer-bf16 60 'AdapterLayerBench' "${LAYER[@]}" -p dtype=bf16 -p route=fused \
  -p method=lora,lora-fa,sbora-fa,sbora-fb -p r=32,64 -p dout=0
jmh jmh-layer-mlp 30 'AdapterLayerBench.forwardBackward' "${LAYER[@]}" -p dtype=bf16 -p route=fused \
  -p method=lora,lora-fa,sbora-fa,sbora-fb -p r=32,64 -p dout=11008
run peers-bf16 40 python3 "$B/peft_lora.py" --dtype bf16 --out "$OUT/peers-bf16.json"
jmh jmh-kernels 45 'GatherScatterBench' -p device=cuda -p dtype=bf16,f32 -p tokens=131072 -p d=4096 -p r=32,64 \
  -p kernel=gather,scatter,gather-gemm,gemm-scatter
jmh jmh-merge 20 'MergeBench' -p device=cuda -p dtype=bf16 -p d=4096 -p r=32,64 -p method=lora,sbora-fa,sbora-fb
jmh jmh-layer-unfused 30 'AdapterLayerBench.forwardBackward' "${LAYER[@]}" -p dtype=bf16 -p route=unfused \
  -p method=sbora-fa,sbora-fb -p r=32,64 -p dout=0,11008
jmh jmh-layer-f32 25 'AdapterLayerBench.forwardBackward' "${LAYER[@]}" -p dtype=f32 -p route=fused \
  -p method=base,lora,dora,sbora-fa,sbora-fb -p r=32 -p dout=0
run peers-f32 40 python3 "$B/peft_lora.py" --dtype f32 --out "$OUT/peers-f32.json"
jmh jmh-kernels-4096 25 'GatherScatterBench' -p device=cuda -p dtype=bf16 -p tokens=4096 -p d=4096 -p r=32,64 \
  -p kernel=gather,scatter,gather-gemm,gemm-scatter

# The report, whatever ran: past the deadline too (it takes seconds).
MACHINE="$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
MACHINE="${MACHINE:-GPU unknown (nvidia-smi failed)}, $(nproc) CPU cores"
DEADLINE=$(( $(date +%s) - START + 60 ))
run report 0 "$JAVA" -cp "$CP" io.sbora4j.bench.report.BenchReport gpu "$(IFS=,; echo "${JMH_JSONS[*]}")" \
  --peers "$OUT/peers-bf16.json,$OUT/peers-f32.json" --machine "$MACHINE" --date "$(date -u +%Y-%m-%d)" \
  --merged-jmh "$OUT/jmh-gpu.json" --data "$B/docs/bench" --out "$OUT/gpu-report.md"
if [ ! -s "$OUT/jmh-gpu.json" ]; then # the report failed: keep the raw results all the same, in one file
  python3 - "$OUT/jmh-gpu.json" "${JMH_JSONS[@]}" <<'PY' && note "   jmh-gpu.json merged by python3 instead"
import json, os, sys
out = []
for f in sys.argv[2:]:
    if os.path.isfile(f) and os.path.getsize(f) > 0:
        out += json.load(open(f))
if out:
    json.dump(out, open(sys.argv[1], "w"), indent=1)
PY
fi
note "total: $(( $(date +%s) - START )) s, $failed step(s) failed"
echo
[ -f "$OUT/gpu-report.md" ] && sed -n '/^## Targets/,/^## (a)/p' "$OUT/gpu-report.md" | sed '$d'
rm -rf "$WORK"
exit $failed
