#!/usr/bin/env bash
# The test suite: the trainer SDK's and the reference trainer's tests (pytest), then unit, replay and integration
# tests (node's test runner; integration files start their own Temporal dev server and MinIO on free ports).
set -euo pipefail
cd "$(dirname "$0")/.."
.ct/tools/venv/bin/python -m pytest -q -p no:cacheprovider trainers/
# Two files at a time: most of an integration file's time is waiting (trainer steps, timers, server start-up), and
# each file has its own servers on free ports. About 15–20 min on 2 cores (14.7 min on an AMD EPYC VM, 19.3 on a Xeon one), half the time of one file at a time.
node --import tsx --test --test-concurrency=2 --test-timeout=600000 test/unit/*.test.ts test/integration/*.test.ts
