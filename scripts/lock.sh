#!/usr/bin/env bash
# Regenerate the hashed locks in requirements/ from setup.cfg and requirements/build.in.
# Needs uv: `.venv/bin/python -m pip install uv` (used from .venv when there), or
# `pipx install uv`; or name one with UV=PATH. Run it after changing a dependency in setup.cfg;
# tests/test_lock.py fails until you do.
#
#   run.txt   what the native host and the command line need at run time
#   demo.txt  run.txt and the demo's extras (the README's set-up line)
#   test.txt  run.txt, the demo's and the tests' extras (the README's test line, CI)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${UV:-}" ] && [ -x .venv/bin/uv ]; then UV=.venv/bin/uv; fi
uv=${UV:-uv}
lock() {
  local out=$1; shift
  "$uv" pip compile --quiet --universal --python-version 3.10 --generate-hashes \
    --custom-compile-command "scripts/lock.sh" setup.cfg requirements/build.in "$@" -o "requirements/$out"
}
lock run.txt
lock demo.txt --extra demo
lock test.txt --extra test
