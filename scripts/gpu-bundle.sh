#!/usr/bin/env bash
# Assembles target/gpu-bundle/: everything the GPU machine needs to run the CUDA tests and the GPU benchmarks
# without a JDK, Maven or network, in well under 64 MiB:
#   runtime/        a jlink'd Java runtime (java.base and the few modules the code uses)
#   lib/            our classes (main, tests, benchmarks), their dependencies, JUnit's console launcher and JMH
#                   (OpenBLAS, the HF tokenizers library and the charting library are left out: the CUDA tests
#                   compare against the plain-Java reference backend, and charts are drawn back home)
#   run-gpu-checks.sh   the one script to run there (see its header)
# Usage: scripts/gpu-bundle.sh            (builds first with ./mvnw)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
. scripts/find-jdk.sh
sbora_find_jdk
JDK="$SBORA_JDK"
out="$here/target/gpu-bundle"
rm -rf "$out" && mkdir -p "$out/lib"

./mvnw -q -B -DskipTests package >&2      # -DskipTests still compiles the tests
./mvnw -q -B dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$here/target/gpu-deps" \
  -pl java >&2
for a in org.openjdk.jmh:jmh-core:1.37 net.sf.jopt-simple:jopt-simple:5.0.4 org.apache.commons:commons-math3:3.6.1; do
  ./mvnw -q -B dependency:copy -Dartifact="$a" -DoutputDirectory="$here/target/gpu-deps" -pl java >&2
done
./mvnw -q -B dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.13.4 \
  -DoutputDirectory="$out/lib" -pl java >&2

(cd java/target/classes && "$JDK/bin/jar" cf "$out/lib/sbora4j.jar" .)
(cd java/target/test-classes && "$JDK/bin/jar" cf "$out/lib/sbora4j-tests.jar" .)
(cd jmh/target/classes && "$JDK/bin/jar" cf "$out/lib/sbora4j-bench.jar" .)
for j in target/gpu-deps/*.jar; do
  [ -f "$j" ] || continue
  case "$(basename "$j")" in
    openblas-*|tokenizers-*|sbora4j-*|jna-*|api-*|jfreechart-*|commons-io*|commons-codec*|commons-compress*|gson-*) ;;
    *) cp "$j" "$out/lib/" ;;
  esac
done

# no java.desktop: charts are drawn on the development machine, not on the GPU machine
"$JDK/bin/jlink" --add-modules java.base,java.logging,java.management,java.xml,jdk.unsupported \
  --strip-java-debug-attributes --strip-native-debug-symbols=exclude-debuginfo-files --no-header-files --no-man-pages \
  --compress=zip-9 --output "$out/runtime"
rm -f "$out"/runtime/lib/server/*.jsa   # class-data-sharing archives: faster start-up, 20 MB we cannot spare

cp scripts/run-gpu-checks.sh "$out/run-gpu-checks.sh"
cp bench/peers/peft_lora.py "$out/peft_lora.py"
chmod +x "$out/run-gpu-checks.sh"
du -sh "$out" "$out"/runtime "$out"/lib >&2
