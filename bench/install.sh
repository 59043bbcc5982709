#!/usr/bin/env bash
# Installs the Python baselines of `npm run bench:drift` (Evidently, pandas, SciPy, pyarrow) into a venv of their
# own, keyed by the hash of bench/requirements.txt, in the shared tools cache (CT_TOOLS_DIR); idempotent.
# .ct/tools/bench-venv in the project points at it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=${CT_TOOLS_DIR:-$HOME/.cache/continuous-training}
say() { echo "[bench install] $*" >&2; }
command -v python3 >/dev/null 2>&1 || { say "missing python3: install Python 3.10+"; exit 1; }

req_hash=$(sha256sum < "$root/bench/requirements.txt" | cut -c1-12)
venv="$tools/bench-venv-$req_hash"
if [ ! -f "$venv/.complete" ]; then
  say "creating the benchmark virtualenv $venv (Evidently, pandas, SciPy, pyarrow)"
  rm -rf "$venv"
  mkdir -p "$tools"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --progress-bar off -r "$root/bench/requirements.txt"
  touch "$venv/.complete"
fi
mkdir -p "$root/.ct/tools"
ln -sfn "$venv" "$root/.ct/tools/bench-venv"
