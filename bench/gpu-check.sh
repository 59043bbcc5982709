#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU, in under 5 minutes: the reference model (trainers/flight_delay)
# trained on CUDA with bf16 autocast through the real training activity; heartbeats must carry GPU stats; samples/s
# on GPU vs CPU for the same steps; the share of the step loop blocked by checkpoint saves; a CUDA resume from a
# checkpoint (bench/gpuCheck.ts). Downloads nothing: `bash stack/install.sh` and `npm ci` must have run (or .ct/tools
# and node_modules be copied along). Last line: RESULT gpu=… samples_per_s=… vs_cpu=… checkpoint_block_share=…
# Without a usable GPU it prints one line, "SKIP gpu-check: <why>", and exits 0; a setup problem is one FAIL line.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  echo "SKIP gpu-check: $*"
  exit 0
}
fail() {
  echo "FAIL gpu-check: $*"
  exit 1
}

command -v nvidia-smi >/dev/null || skip "no nvidia-smi on PATH"
listing=$(nvidia-smi -L 2>&1) || true
if ! grep -q '^GPU ' <<<"$listing"; then
  why=$(head -n 1 <<<"$listing")
  skip "nvidia-smi lists no GPU${why:+ ($why)}"
fi

py=.ct/tools/venv/bin/python
for tool in "$py" .ct/tools/minio; do
  [[ -x $tool ]] || fail "$tool is missing: run bash stack/install.sh (it downloads), or copy .ct/tools along"
done
[[ -d node_modules/tsx ]] || fail "node_modules is missing: run npm ci, or copy node_modules along"
command -v node >/dev/null || fail "no node on PATH"

# stdout only: a driver warning on stderr must not take the place of the answer.
probe=$("$py" -c 'import torch
ok = torch.cuda.is_available()
print(torch.__version__, torch.version.cuda or "none", ok, ok and torch.cuda.is_bf16_supported())' 2>/dev/null) ||
  fail "torch does not import in .ct/tools/venv: rerun bash stack/install.sh"
read -r torch cuda available bf16 <<<"$probe"
[[ $cuda != none ]] || skip "torch in .ct/tools/venv has no CUDA build (torch $torch)"
if [[ $available != True ]]; then
  driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1)
  skip "torch.cuda.is_available() is false in .ct/tools/venv (torch $torch for CUDA $cuda, driver ${driver:-unknown})"
fi
# The trainer autocasts to bf16 on CUDA exactly when torch says the GPU supports it (trainers/flight_delay/training.py).
if [[ $bf16 == True ]]; then amp="bf16 autocast"; else amp="fp32: this GPU has no bf16"; fi
echo "gpu-check: torch $torch (CUDA $cuda), $amp"

# Past the limit, SIGTERM: the trainer checkpoints and stops, MinIO stops; SIGKILL 20 s later if that hangs.
limit=270
status=0
timeout --kill-after=20 "$limit" node --import tsx bench/gpuCheck.ts || status=$?
[[ $status -ne 124 ]] || echo "FAIL gpu-check: not done within $limit s"
exit "$status"
