#!/usr/bin/env bash
# A whole training step, sbora4j against PyTorch on the CPU, in one session: for each OPENBLAS_CORETYPE setting
# (the environment's, Haswell if it sets none, then unset), each shape and each method, sbora4j's StepCpuTime then the PyTorch peer
# (bench/peers/train_step_cpu.py) on the same number of threads, one process each, back to back, so that both see the
# same load. Prints one line per process (StepCpuTime's text, the peer's JSON), prefixed with the coretype setting.
#
# Usage: bench/step-vs-pytorch.sh [THREADS [SHAPES [METHODS [STEPS]]]]   (defaults: 2, "tiny layer1b",
#        "lora sbora-fa sbora-fb", 6). Needs jmh/target/benchmarks.jar (./mvnw -B -DskipTests package) and
#        python3-torch with libopenblas0-pthread.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
shapes=${2:-tiny layer1b}
methods=${3:-lora sbora-fa sbora-fb}
steps=${4:-6}
python=${PYTHON:-/usr/bin/python3} # Debian's, where python3-torch is installed
java=${SBORA_JDK:-$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n 1)}/bin/java
jar=jmh/target/benchmarks.jar
[ -f "$jar" ] || { echo "missing $jar: run ./mvnw -B -DskipTests package" >&2; exit 1; }
coretypes=("${OPENBLAS_CORETYPE:-Haswell}" "")
echo "# $(date -u +%FT%TZ) $(uname -n) $(nproc) cores; threads=$threads steps=$steps; $(lscpu | sed -n 's/^Model name: *//p')"
for ct in "${coretypes[@]}"; do
  label=${ct:-unset}
  for shape in $shapes; do
    for method in $methods; do
      ( if [ -n "$ct" ]; then export OPENBLAS_CORETYPE=$ct; else unset OPENBLAS_CORETYPE; fi
        echo "coretype=$label sbora4j $("$java" --enable-native-access=ALL-UNNAMED -Dsbora.bench.threads="$threads" \
             -cp "$jar" io.sbora4j.bench.StepCpuTime "$shape" "$method" "$steps" 2 | tail -n 1)"
        echo "coretype=$label pytorch $("$python" bench/peers/train_step_cpu.py --threads "$threads" --shape "$shape" \
             --method "$method" --steps "$steps" --warmup 2 | tail -n 1)" )
    done
  done
done
