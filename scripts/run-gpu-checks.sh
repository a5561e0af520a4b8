#!/usr/bin/env bash
# The GPU session in one script (copied into target/gpu-bundle by scripts/gpu-bundle.sh; runs with no JDK):
#   1. nvidia-smi and `sbora info` (is the cuda backend usable, and if not, why)
#   2. the CUDA tests: every kernel against the reference backend, adapted layers, AdamW, a LLaMA step
#   3. JMH on cuda: adapted layer fwd+bwd and adapter path alone, LLaMA-7B shapes, 4096 tokens, r 32 and 64
#   4. the PyTorch + PEFT peer on the same shapes (bf16 and f32)
# Results go to $OUT (default: ./gpu-out). Each step runs even if an earlier one failed; the exit code is the
# number of failed steps.
set -u
B="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
JAVA="$B/runtime/bin/java"
if [ -z "${SBORA_CUDA_LIB_DIR:-}" ]; then
  SBORA_CUDA_LIB_DIR="$(python3 -c 'import nvidia.cublas, os; print(os.path.join(os.path.dirname(nvidia.cublas.__file__), "lib"))' 2>/dev/null || true)"
  if [ -z "$SBORA_CUDA_LIB_DIR" ]; then
    found="$(find / -name 'libcublas.so*' 2>/dev/null | head -n 1)"
    [ -n "$found" ] && SBORA_CUDA_LIB_DIR="$(dirname "$found")"
  fi
  [ -n "$SBORA_CUDA_LIB_DIR" ] && export SBORA_CUDA_LIB_DIR
fi
CP="$B/lib/sbora4j.jar:$B/lib/sbora4j-tests.jar"
for j in "$B"/lib/*.jar; do
  case "$(basename "$j")" in sbora4j.jar|sbora4j-tests.jar|junit-platform-console-standalone*) ;; *) CP="$CP:$j" ;; esac
done
failed=0
: > "$OUT/summary.txt"
run() { # name, command...
  local name="$1"; shift
  echo "== $name" | tee -a "$OUT/summary.txt"
  local t0=$(date +%s)
  if "$@" > "$OUT/$name.txt" 2>&1; then echo "   ok ($(( $(date +%s) - t0 )) s)" | tee -a "$OUT/summary.txt"
  else echo "   FAILED ($(( $(date +%s) - t0 )) s): see $name.txt" | tee -a "$OUT/summary.txt"; failed=$((failed + 1)); fi
}
run nvidia-smi nvidia-smi
run info "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" io.sbora4j.cli.SboraCli info
run cuda-tests "$JAVA" --enable-native-access=ALL-UNNAMED -jar "$B"/lib/junit-platform-console-standalone-*.jar \
  execute --class-path "$CP" --select-class io.sbora4j.backend.cuda.CudaBackendTest --details=tree \
  --include-engine=junit-jupiter \
  --reports-dir "$OUT/junit" --fail-if-no-tests
run jmh-gpu "$JAVA" -cp "$CP" org.openjdk.jmh.Main 'AdapterLayerBench' -p device=cuda -p d=4096 -p tokens=4096 \
  -p r=32,64 -p dout=0,11008 -p method=base,lora,sbora-fa,sbora-fb -f 1 -wi 2 -i 3 -w 500ms -r 500ms -foe true \
  -rf json -rff "$OUT/jmh-gpu.json"
run peers-bf16 python3 "$B/peft_lora.py" --dtype bf16 --out "$OUT/peers-bf16.json"
run peers-f32 python3 "$B/peft_lora.py" --dtype f32 --out "$OUT/peers-f32.json"
exit $failed
