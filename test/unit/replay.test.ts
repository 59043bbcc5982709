// Determinism guard: histories recorded from the integration tests replay against the current workflow code.
// Re-record after an intended, versioned (patched) change: CT_RECORD_HISTORIES=1 node --import tsx --test test/integration/pipeline.test.ts
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { projectRoot } from '../../stack/paths';
import { workflowBundle } from '../helpers/stack';

const dir = path.join(projectRoot, 'test', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of recorded histories', () => {
  it('has recorded histories to replay', () => assert.ok(files.length >= 2, `found ${files.length}`));
  for (const file of files) {
    it(`replays ${file}`, async () => {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      // Throws DeterminismViolationError if the current code would take a different path.
      await Worker.runReplayHistory({ workflowBundle: { code: (await workflowBundle()).code } }, history, file);
    });
  }
});
