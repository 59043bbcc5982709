// Determinism guard: histories recorded from the integration tests replay against the current workflow code.
// Re-record after a change to workflow code (test/README.md, "Recording histories").
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { defaultPayloadConverter } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { AesGcmPayloadCodec } from '../../adapters/payloadCodec';
import { workflowIds } from '../../core/keys';
import { projectRoot } from '../../stack/paths';
import { TEST_CODEC_KEYS, testDataConverter } from '../helpers/codec';
import { workflowBundle } from '../helpers/stack';

const dir = path.join(projectRoot, 'test', 'histories');

type History = ReturnType<typeof historyFromJSON>;

/** The supervisor insists on its own id (ct/<modelId>), which the CLI's history JSON leaves out: rebuild it from the
 * (encrypted) input. */
async function workflowIdOf(history: History): Promise<string | undefined> {
  const start = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = start?.input?.payloads?.[0];
  if (start?.workflowType?.name !== 'continuousTraining' || !payload) return undefined;
  const [decoded] = await new AesGcmPayloadCodec(TEST_CODEC_KEYS).decode([payload]);
  return workflowIds.supervisor(defaultPayloadConverter.fromPayload<{ modelId: string }>(decoded!).modelId);
}
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of recorded histories', () => {
  it('has recorded histories to replay', () => assert.ok(files.length >= 2, `found ${files.length}`));
  for (const file of files) {
    it(`replays ${file}`, async () => {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      // Throws DeterminismViolationError if the current code would take a different path.
      await Worker.runReplayHistory(
        { workflowBundle: { code: (await workflowBundle()).code }, dataConverter: testDataConverter() },
        history,
        (await workflowIdOf(history)) ?? file,
      );
    });
  }
});
