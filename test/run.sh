#!/usr/bin/env bash
# The test suite: the trainer SDK's and the reference trainer's tests (pytest), and unit, replay and integration
# tests (node's test runner; integration files start their own Temporal dev server and MinIO on free ports).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .ct
# pytest runs beside the node tests (most of an integration file's time is waiting: trainer steps, timers, server
# start-up); its output is printed when both are done.
.ct/tools/venv/bin/python -m pytest -q -p no:cacheprovider trainers/ >.ct/pytest.log 2>&1 &
pytest_pid=$!
# Two files at a time, each with its own servers on free ports. The spec reporter lists the failing tests again at
# its end; the TAP file (.ct/test-results.tap) keeps every test's duration.
node_status=0
node --import tsx --test --test-concurrency=2 --test-timeout=600000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=.ct/test-results.tap \
  test/unit/*.test.ts test/integration/*.test.ts || node_status=$?
pytest_status=0
wait "$pytest_pid" || pytest_status=$?
echo
echo "pytest (trainers/):"
cat .ct/pytest.log
echo
echo "node tests: $([ "$node_status" = 0 ] && echo passed || echo "FAILED (exit $node_status; failing tests listed above)")"
echo "pytest:     $([ "$pytest_status" = 0 ] && echo passed || echo "FAILED (exit $pytest_status)")"
[ "$node_status" = 0 ] && [ "$pytest_status" = 0 ]
