#!/usr/bin/env bash
# Build llama.cpp's llama-server (C++) from the llama.cpp that llama-cpp-python vendors,
# so the server runs the same llama.cpp as the Python bindings the project uses.
#
# The source is the llama-cpp-python sdist from PyPI (vendor/llama.cpp), SHA-256 checked.
# Nothing from the sdist runs except its CMake build: no setup.py, no npm (the web UI is not
# built and not downloaded), no network at build time. CPU flags are the portable set that
# scripts/install.sh uses for the wheel (set CMAKE_ARGS to override them, as there).
#
# Installs to ${XDG_CACHE_HOME:-~/.cache}/tutor/llama-server/<key>/llama-server, where
# <key> is the first 16 hex chars of sha256("<version> <cmake flags>"), and prints that
# path. If the binary is already there it prints the path and exits at once.
#
# Environment: JOBS (parallel compile jobs, default 2), KEEP_BUILD=1 (keep the temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_VERSION=0.3.36
SDIST=llama_cpp_python-$LLAMA_VERSION.tar.gz
SDIST_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
JOBS=${JOBS:-2}

if [ -z "${CMAKE_ARGS:-}" ]; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
  if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    CMAKE_ARGS="$CMAKE_ARGS -DGGML_AVX512=ON"
  fi
fi
# LLAMA_CURL is deprecated in this llama.cpp (a warning only); kept so the flag set says
# "no network". LLAMA_OPENSSL=OFF: no HTTPS client, no libssl dependency. The UI flags keep
# the build from running npm or downloading prebuilt web-UI assets.
FLAGS="$CMAKE_ARGS -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF"
FLAGS="$FLAGS -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
FLAGS="$FLAGS -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF"

key=$(printf '%s %s' "$LLAMA_VERSION" "$FLAGS" | sha256sum | cut -c1-16)
dest="${XDG_CACHE_HOME:-$HOME/.cache}/tutor/llama-server/$key"
bin="$dest/llama-server"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

for tool in cmake make c++ cc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing cmake and build-essential" >&2
      apt-get update -qq >&2 && apt-get install -y -qq cmake build-essential >&2
      break
    fi
    echo "build_llama_server: '$tool' not found; install cmake and a C/C++ toolchain" >&2
    echo "  (Debian/Ubuntu: apt-get install cmake build-essential)" >&2
    exit 1
  fi
done

if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=${PYTHON:-python3}; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/llama-server-build.XXXXXX")
if [ "${KEEP_BUILD:-}" = 1 ]; then
  trap 'echo "build dir kept: $work" >&2' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi

echo "downloading $SDIST (pip cache is used when present)" >&2
"$PY" -m pip --disable-pip-version-check --quiet download \
  "llama-cpp-python==$LLAMA_VERSION" --no-binary :all: --no-deps -d "$work/sdist" >&2
echo "$SDIST_SHA256  $work/sdist/$SDIST" | sha256sum -c --quiet - >&2

tar -xzf "$work/sdist/$SDIST" -C "$work"
# The sdist ships llama-cpp-python's .git (with the llama.cpp submodule's git dir); llama.cpp's
# CMake runs `git rev-parse` on it for the version string (commit 0c1e570). Its configs have
# no hooks or command settings, and the SHA-256 pin above fixes them. Git must not look above
# the temp dir.
export GIT_CEILING_DIRECTORIES="$work"
src="$work/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp"
[ -f "$src/CMakeLists.txt" ] || { echo "build_llama_server: no vendor/llama.cpp in $SDIST" >&2; exit 1; }

echo "building llama-server (llama-cpp-python $LLAMA_VERSION) with: $FLAGS" >&2
start=$SECONDS
# shellcheck disable=SC2086  # FLAGS is a list of words
cmake -S "$src" -B "$work/build" $FLAGS >&2
cmake --build "$work/build" --target llama-server -j "$JOBS" >&2
echo "built in $((SECONDS - start)) s" >&2

built="$work/build/bin/llama-server"
"$built" --version >&2

mkdir -p "$dest"
cp "$built" "$dest/llama-server.tmp.$$"
printf 'llama-cpp-python %s\nsdist sha256 %s\ncmake flags %s\n' \
  "$LLAMA_VERSION" "$SDIST_SHA256" "$FLAGS" > "$dest/BUILD_INFO"
mv -f "$dest/llama-server.tmp.$$" "$bin"
echo "$bin"
