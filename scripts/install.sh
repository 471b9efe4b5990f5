#!/usr/bin/env bash
# Install tutor into .venv: llama-cpp-python built for a portable CPU target,
# the project with its dev extras, and the embedded default model (SHA-256 checked).
#
# CMAKE_ARGS: a native llama.cpp build can emit instructions (AMX, AVX512) that some
# VMs forbid ("Illegal instruction" on the first matmul), so we build for an explicit
# target unless you set CMAKE_ARGS yourself (e.g. -DGGML_CUDA=on). pip caches built
# wheels without regard to CMAKE_ARGS, so we keep our own wheel per flag set.
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_VERSION=0.3.36
PYTHON=${PYTHON:-python3}

if [ -z "${CMAKE_ARGS:-}" ]; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
  if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    CMAKE_ARGS="$CMAKE_ARGS -DGGML_AVX512=ON"
  fi
fi
export CMAKE_ARGS

# Nothing changed since the last complete install (same pyproject.toml, this script, build
# flags; the package and llama_cpp import; the model is there and was verified): done, silently.
STAMP=.venv/.tutor-install
install_key=$(cat pyproject.toml "$0" | sha256sum | cut -c1-16)-$(printf '%s %s' "$LLAMA_VERSION" "$CMAKE_ARGS" | sha256sum | cut -c1-16)
if [ -f "$STAMP" ]; then
  if [ "$(cat "$STAMP")" != "$install_key" ]; then
    echo "tutor install: pyproject.toml, this script or the build flags changed; installing again"
  elif why=$(.venv/bin/python -c "
import sys, llama_cpp, tutor
from tutor.core import model_store
sys.exit(0 if model_store.is_installed(model_store.MODELS['default']) else 'the model is not verified')" 2>&1); then
    exit 0
  else
    echo "tutor install: installing again (${why##*$'\n'})"
  fi
fi
rm -f "$STAMP"

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check --quiet)
"${PIP[@]}" install --upgrade pip

if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  key=$(printf '%s %s' "$LLAMA_VERSION" "$CMAKE_ARGS" | sha256sum | cut -c1-16)
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/tutor/wheels/$key"
  if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $LLAMA_VERSION with CMAKE_ARGS=\"$CMAKE_ARGS\" (several minutes, once)"
    "${PIP[@]}" wheel --no-deps --no-cache-dir "llama-cpp-python==$LLAMA_VERSION" -w "$wheels"
  fi
  "${PIP[@]}" install "$wheels"/llama_cpp_python-*.whl
fi

"${PIP[@]}" install -e ".[dev,server]"
.venv/bin/tutor model install
echo "$install_key" > "$STAMP"
