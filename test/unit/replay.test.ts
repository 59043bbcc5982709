// Determinism guard: histories recorded from the integration tests replay against the current workflow code.
// Re-record after a change to workflow code (test/README.md, "Recording histories").
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowIds } from '../../core/keys';
import { projectRoot } from '../../stack/paths';
import { workflowBundle } from '../helpers/stack';

const dir = path.join(projectRoot, 'test', 'histories');

type HistoryJson = {
  events: {
    workflowExecutionStartedEventAttributes?: {
      workflowType: { name: string };
      input?: { payloads: { data: string }[] };
    };
  }[];
};

/** The supervisor insists on its own id (ct/<modelId>), which the CLI's history JSON leaves out: rebuild it from the input. */
function workflowIdOf(json: HistoryJson): string | undefined {
  const start = json.events[0]?.workflowExecutionStartedEventAttributes;
  if (start?.workflowType.name !== 'continuousTraining' || !start.input) return undefined;
  const input = JSON.parse(Buffer.from(start.input.payloads[0]!.data, 'base64').toString('utf8')) as {
    modelId: string;
  };
  return workflowIds.supervisor(input.modelId);
}
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of recorded histories', () => {
  it('has recorded histories to replay', () => assert.ok(files.length >= 2, `found ${files.length}`));
  for (const file of files) {
    it(`replays ${file}`, async () => {
      const json = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as HistoryJson;
      // Throws DeterminismViolationError if the current code would take a different path.
      await Worker.runReplayHistory(
        { workflowBundle: { code: (await workflowBundle()).code } },
        historyFromJSON(json),
        workflowIdOf(json) ?? file,
      );
    });
  }
});
