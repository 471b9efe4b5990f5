#!/usr/bin/env bash
# Resolve requirements.lock: every package .venv gets (the project's dependencies with the
# dev, server, voice and cluster extras that `make` installs, plus pip and uv), pinned with their
# SHA-256 hashes, for Python 3.11 and up on any platform (uv's universal resolution).
#
#   scripts/lock.sh             re-resolve after editing pyproject.toml; keeps every pin it can
#   scripts/lock.sh --upgrade   move every package to its newest release allowed by pyproject.toml
#
# llama-cpp-python is left out: install.sh builds it from its sdist (pinned with a hash there)
# for a portable CPU target. `make lock` and `make upgrade` (which also runs the tests) call this.
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-.venv/bin/uv}
if [ ! -x "$UV" ]; then
  echo "scripts/lock.sh: $UV is missing: run 'make install' first (the lock pins uv itself)" >&2
  exit 2
fi
"$UV" pip compile pyproject.toml scripts/lock-tools.in \
  --extra dev --extra server --extra voice --extra cluster \
  --universal --python-version 3.11 --generate-hashes \
  --no-emit-package llama-cpp-python \
  --custom-compile-command "make lock" \
  --quiet --output-file requirements.lock "$@"
