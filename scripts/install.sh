#!/usr/bin/env bash
# Install tutor into .venv: exactly the packages pinned in requirements.lock (hash-checked; the
# project's dependencies with its dev, server, voice and cluster extras), llama-cpp-python built from its
# hash-checked sdist for a portable CPU target, the project itself (editable), the embedded
# default model and the speech model (SHA-256 checked), and Debian's espeak-ng and libportaudio2
# when missing. A changed lock, pyproject.toml, script or build flag makes .venv afresh, so a
# working tree's .venv always equals a fresh clone's. `make upgrade` refreshes the lock.
#
# CMAKE_ARGS: a native llama.cpp build can emit instructions (AMX, AVX512) that some
# VMs forbid ("Illegal instruction" on the first matmul), so we build for an explicit
# target unless you set CMAKE_ARGS yourself (e.g. -DGGML_CUDA=on). pip caches built
# wheels without regard to CMAKE_ARGS, so we keep our own wheel per flag set.
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_VERSION=0.3.36
LLAMA_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e  # its sdist on PyPI
LOCK=requirements.lock
PYTHON=${PYTHON:-python3}

if [ -z "${CMAKE_ARGS:-}" ]; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
  if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    CMAKE_ARGS="$CMAKE_ARGS -DGGML_AVX512=ON"
  fi
fi
export CMAKE_ARGS

# The review page's browser test drives Debian's Chromium through Playwright (which never
# downloads a browser here). Checked before the stamp, so a machine that lost it gets it back;
# silent when it is there.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "tutor install: installing Debian's chromium (for the review page's browser test)"
    apt_chromium() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
    apt_chromium || { apt-get update -qq && apt_chromium; } \
      || echo "tutor install: could not install chromium; the browser test will fail until it is installed"
  else
    echo "tutor install: the browser test needs Chromium: sudo apt-get install -y --no-install-recommends chromium"
  fi
fi

# Nothing changed since the last complete install (same lock, pyproject.toml, this script, build
# flags; the package and llama_cpp import; the model is there and was verified): done, silently.
# Anything else in the key changed: .venv is made afresh (the llama.cpp wheel and the models are
# cached outside it), so no package that left the lock lingers.
STAMP=.venv/.tutor-install
install_key=$(cat "$LOCK" pyproject.toml "$0" | sha256sum | cut -c1-16)-$(printf '%s %s' "$LLAMA_VERSION" "$CMAKE_ARGS" | sha256sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$install_key" ]; then
  if why=$(.venv/bin/python -c "
import sys, importlib.util, llama_cpp, tutor
from tutor.core import model_store
problems = [why for ok, why in [
    (model_store.is_installed(model_store.MODELS['default']), 'the model is not verified'),
    (importlib.util.find_spec('faster_whisper'), 'the voice extra is not installed'),
    (model_store.bundle_installed(model_store.SPEECH), 'the speech model is not verified')] if not ok]
sys.exit(problems[0] if problems else 0)" 2>&1); then
    exit 0
  fi
  echo "tutor install: installing again (${why##*$'\n'})"
elif [ -d .venv ]; then
  echo "tutor install: $LOCK, pyproject.toml, this script or the build flags changed; making .venv afresh"
  rm -rf .venv
fi
rm -f "$STAMP"

# Spoken answers: espeak-ng reads questions aloud and makes the speech tests' audio; PortAudio
# is the microphone. Installed with apt-get when missing and we are root, else named.
audio_missing=()
command -v espeak-ng >/dev/null || audio_missing+=(espeak-ng)
/sbin/ldconfig -p 2>/dev/null | grep 'libportaudio\.so\.2' >/dev/null || audio_missing+=(libportaudio2)  # no -q: pipefail
if [ ${#audio_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "tutor install: installing ${audio_missing[*]} (spoken answers)"
    apt_audio() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${audio_missing[@]}" >/dev/null; }
    apt_audio || { apt-get update -qq && apt_audio; } \
      || echo "tutor install: could not install ${audio_missing[*]}; the speech tests will be skipped"
  else
    echo "tutor install: spoken answers need ${audio_missing[*]}: sudo apt-get install -y ${audio_missing[*]}"
  fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check --quiet)
# Every package but llama-cpp-python and tutor, as pinned (pip itself among them); --no-deps:
# the lock is the whole set, and `pip check` below proves it.
"${PIP[@]}" install --require-hashes --no-deps -r "$LOCK"

if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  key=$(printf '%s %s' "$LLAMA_VERSION" "$CMAKE_ARGS" | sha256sum | cut -c1-16)
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/tutor/wheels/$key"
  if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $LLAMA_VERSION with CMAKE_ARGS=\"$CMAKE_ARGS\" (several minutes, once)"
    "${PIP[@]}" wheel --no-deps --no-cache-dir --require-hashes -w "$wheels" \
      -r <(echo "llama-cpp-python==$LLAMA_VERSION --hash=sha256:$LLAMA_SHA256")
  fi
  "${PIP[@]}" install --no-deps "$wheels"/llama_cpp_python-*.whl
fi

"${PIP[@]}" install --no-deps --no-build-isolation -e .
if ! problems=$(.venv/bin/python -m pip check 2>&1); then
  echo "tutor install: $LOCK does not satisfy pyproject.toml (run 'make lock'): ${problems//$'\n'/; }" >&2
  exit 1
fi
.venv/bin/tutor model install
.venv/bin/tutor model install speech
echo "$install_key" > "$STAMP"
