#!/usr/bin/env bash
# Regenerates the Panama bindings of our C headers with jextract, where jextract is installed
# (https://jdk.java.net/jextract/). No registry this project builds from ships it, so the bindings in
# java/cpu/src/main/java/io/sbora4j/cpu/ffi/ and java/cuda/src/main/java/io/sbora4j/cuda/ffi/ are kept by hand in the
# same shape and checked against the headers by HeaderBindingsTest and CudaHeaderBindingsTest. Run this to compare, or to replace them:
#   scripts/jextract-bindings.sh [output-dir]     (default: target/jextract)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$here/target/jextract}"
if ! command -v jextract >/dev/null 2>&1; then
  echo "jextract is not on PATH; the hand-kept bindings stay as they are (HeaderBindingsTest guards them)." >&2
  exit 1
fi
mkdir -p "$out"
jextract --output "$out" --target-package io.sbora4j.cpu.ffi --header-class-name sbora_native_h \
  --library sbora_native "$here/native/include/sbora_native.h"
jextract --output "$out" --target-package io.sbora4j.cuda.ffi --header-class-name sbora_cuda_h \
  --library sbora_cuda "$here/cuda-kernels/include/sbora_cuda.h"
echo "bindings written under $out; diff them against java/cpu/.../cpu/ffi/ and java/cuda/.../cuda/ffi/" >&2
