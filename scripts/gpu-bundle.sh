#!/usr/bin/env bash
# Assembles target/gpu-bundle/: everything the GPU machine needs to run the CUDA tests and the GPU benchmarks
# without a JDK, Maven or network, in well under 64 MiB:
#   runtime/ bin/sbora   from `sbora bundle --small --no-charts`: a jlink'd Java runtime (java.base and the few
#                   modules the code uses; no java.desktop, no class-data-sharing archives) and the launcher
#   lib/            our modules (core, cpu, cuda, cli from `sbora bundle`), the cuda tests and the core test helpers,
#                   the benchmarks (sbora4j-bench.jar), the report tool (sbora4j-bench-report.jar: its gpu report
#                   needs Jackson only, which core brings), their dependencies, JUnit's console
#                   launcher and JMH (OpenBLAS, the HF tokenizers library and the charting library are left out: the
#                   CUDA tests compare against the plain-Java reference backend, and charts are drawn back home)
#   docs/bench/     targets.json and machines.json, copied from the repository: what the report checks against
#   run-gpu-checks.sh   the one script to run there (see its header)
# Usage: scripts/gpu-bundle.sh            (builds first with ./mvnw)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
. scripts/find-jdk.sh
sbora_find_jdk
JDK="$SBORA_JDK"
out="$here/target/gpu-bundle"
deps="$here/target/gpu-deps"
rm -rf "$out" "$deps"

./mvnw -q -B -DskipTests package >&2      # -DskipTests still compiles the tests
# The dependencies of the modules the GPU runs (their union, with -am: the siblings resolve from this build)
./mvnw -q -B -DskipTests package dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$deps" \
  -pl java/cuda -am >&2
./mvnw -q -B -DskipTests package dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$deps/runtime" -pl java/cli -am >&2
for a in org.openjdk.jmh:jmh-core:1.37 net.sf.jopt-simple:jopt-simple:5.0.4 org.apache.commons:commons-math3:3.6.1 \
         org.junit.platform:junit-platform-console-standalone:1.13.4; do
  ./mvnw -q -B dependency:copy -Dartifact="$a" -DoutputDirectory="$deps" -pl java/core >&2
done

gpu_jar() { # true for a dependency the GPU machine needs (not OpenBLAS, the tokenizers library or the charts)
  case "$(basename "$1")" in
    openblas-*|tokenizers-*|sbora4j-*|jna-*|api-*|jfreechart-*|commons-io*|commons-codec*|commons-compress*|gson-*) return 1 ;;
    *) return 0 ;;
  esac
}
test_tool_jar() { # JUnit's parts (the console launcher carries them all) and jqwik (no property test runs there)
  case "$(basename "$1")" in
    junit-platform-console-standalone-*) return 1 ;;
    junit-*|opentest4j-*|apiguardian-*|jqwik-*) return 0 ;;
    *) return 1 ;;
  esac
}

# runtime/, bin/sbora and lib/ with our modules (java/*/target/classes, jarred up as sbora4j-<module>.jar) and their
# runtime dependencies: `sbora bundle`, run on the class path the GPU machine needs. --no-charts: no java.desktop;
# --small: no CDS archives (28 MiB).
cp="java/core/target/classes:java/cpu/target/classes:java/cuda/target/classes:java/cli/target/classes"
for j in "$deps"/runtime/*.jar; do
  if gpu_jar "$j"; then cp="$cp:$j"; fi
done
"$JDK/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" io.sbora4j.cli.SboraCli \
  bundle --output "$out" --small --no-charts >&2

# on top: the cuda tests, the core test helpers, the benchmarks, the report tool and its data, the test and JMH
# dependencies, JUnit's console launcher, the run script
(cd java/cuda/target/test-classes && "$JDK/bin/jar" cf "$out/lib/sbora4j-cuda-tests.jar" .)
(cd java/core/target/test-classes && "$JDK/bin/jar" cf "$out/lib/sbora4j-core-tests.jar" .)
(cd jmh/target/classes && "$JDK/bin/jar" cf "$out/lib/sbora4j-bench.jar" .)
(cd jmh/report/target/classes && "$JDK/bin/jar" cf "$out/lib/sbora4j-bench-report.jar" .)
mkdir -p "$out/docs/bench"
cp docs/bench/targets.json docs/bench/machines.json "$out/docs/bench/"
for j in "$deps"/*.jar; do
  [ -f "$j" ] && [ ! -e "$out/lib/$(basename "$j")" ] || continue
  if gpu_jar "$j" && ! test_tool_jar "$j"; then cp "$j" "$out/lib/"; fi
done
# libjvm.so ships with its symbol table (about 4 MiB): the device call carries 64 MiB in all, repository included
if command -v strip >/dev/null 2>&1; then
  chmod u+w "$out/runtime/lib/server/libjvm.so" && strip --strip-unneeded "$out/runtime/lib/server/libjvm.so"
fi

cp scripts/run-gpu-checks.sh "$out/run-gpu-checks.sh"
cp bench/peers/peft_lora.py "$out/peft_lora.py"
chmod +x "$out/run-gpu-checks.sh"
du -sh "$out" "$out"/runtime "$out"/lib >&2
