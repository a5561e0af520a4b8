#!/usr/bin/env bash
# Data-parallel training on one machine: 1 process x THREADS threads against mpirun -np THREADS processes x 1 thread,
# on the same global batch (TrainingStepBench's shape), alternating ROUNDS times so that both see the same load.
# Prints one line per run (DataParallelStep's). Needs jmh/target/benchmarks.jar (./mvnw -B -DskipTests package)
# and mpirun (openmpi-bin).
#
# Usage: bench/data-parallel.sh [THREADS [SHAPE [METHODS [STEPS [ROUNDS]]]]]   (defaults: 2, tiny, "lora sbora-fa", 10, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
shape=${2:-tiny}
methods=${3:-lora sbora-fa}
steps=${4:-10}
rounds=${5:-3}
java=${SBORA_JDK:-$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n 1)}/bin/java
jar=jmh/target/benchmarks.jar
[ -f "$jar" ] || { echo "missing $jar: run ./mvnw -B -DskipTests package" >&2; exit 1; }
flags=(--enable-native-access=ALL-UNNAMED -cp "$jar")
mpi=(mpirun -np "$threads" --oversubscribe --bind-to none --mca btl self,vader --mca btl_vader_single_copy_mechanism none)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "# $(date -u +%FT%TZ) $(uname -n) $(nproc) cores; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $(lscpu | sed -n 's/^Model name: *//p')"
for round in $(seq "$rounds"); do
  for method in $methods; do
    echo "round=$round one-process $("$java" -Dsbora.bench.threads="$threads" "${flags[@]}" \
         io.sbora4j.bench.DataParallelStep "$shape" "$method" "$steps" 3 | tail -n 1)"
    echo "round=$round mpirun      $("${mpi[@]}" "$java" -Dsbora.bench.threads=1 "${flags[@]}" \
         io.sbora4j.bench.DataParallelStep "$shape" "$method" "$steps" 3 | tail -n 1)"
  done
done
