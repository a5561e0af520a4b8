#!/usr/bin/env bash
# Assembles target/gpu-bundle/: everything the GPU machine needs to run the CUDA tests and the GPU benchmarks
# without a JDK, Maven or network, in well under 64 MiB:
#   runtime/        a jlink'd Java runtime (java.base and the few modules the code uses)
#   lib/            our classes (main + test), their dependencies, JUnit's console launcher, the JMH jar
#                   (OpenBLAS and the HF tokenizers library are left out: the CUDA tests compare against the
#                   plain-Java reference backend)
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

./mvnw -q -B -DskipTests package test-compile dependency:copy-dependencies -DincludeScope=test \
  -DoutputDirectory="$here/target/gpu-deps" -pl java,jmh -am >&2
./mvnw -q -B dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.13.4 \
  -DoutputDirectory="$out/lib" -pl java >&2

(cd java/target/classes && "$JDK/bin/jar" cf "$out/lib/sbora4j.jar" .)
(cd java/target/test-classes && "$JDK/bin/jar" cf "$out/lib/sbora4j-tests.jar" .)
for j in target/gpu-deps/*.jar jmh/target/gpu-deps/*.jar java/target/gpu-deps/*.jar; do
  [ -f "$j" ] || continue
  case "$(basename "$j")" in
    openblas-*|tokenizers-*|sbora4j-*|jna-*) ;;    # not needed on the GPU machine (see above)
    *) cp "$j" "$out/lib/" ;;
  esac
done
# the JMH uber jar without OpenBLAS and the tokenizers' native libraries
cp jmh/target/benchmarks.jar "$out/lib/benchmarks.jar"
zip -q -d "$out/lib/benchmarks.jar" 'org/bytedeco/*' 'native/lib/*' >/dev/null 2>&1 || true

"$JDK/bin/jlink" --add-modules java.base,java.desktop,java.logging,java.management,jdk.management,jdk.unsupported,java.naming \
  --strip-debug --no-header-files --no-man-pages --compress=zip-9 --output "$out/runtime"

cp scripts/run-gpu-checks.sh "$out/run-gpu-checks.sh"
cp bench/peers/peft_lora.py "$out/peft_lora.py"
chmod +x "$out/run-gpu-checks.sh"
du -sh "$out" "$out"/runtime "$out"/lib >&2
