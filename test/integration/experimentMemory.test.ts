// Experiment memory on the real servers and the real trainer: the same request twice trains once; a changed
// hyperparameter or `reuse: never` trains again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRetraining } from '../../client';
import { readCard } from '../../adapters/registryStore';
import { AttemptRecord } from '../../core/attempts';
import { keys } from '../../core/keys';
import type { ModelConfig } from '../../core/modelConfig';
import type { RunStatus } from '../../core/runStatus';
import { buildReport } from '../../cli/report';
import { formatRunSummary } from '../../cli/runSummary';
import { createAuditLog } from '../../workers/config';
import { testModelConfig } from '../helpers/flights';
import { flightsTenant, recordHistory, startTestStack, type TestStack } from '../helpers/stack';

describe('experiment memory', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  const modelId = 'memory';
  const config = { ...testModelConfig({ reuse: 'identical' }), modelId };

  before(async () => {
    stack = await startTestStack();
    tenant = await flightsTenant(stack);
    await createAuditLog(tenant.config).ensureBucket();
  });
  after(async () => stack?.stop());

  const run = async (modelConfig: ModelConfig, name?: string) => {
    const started = Date.now();
    const handle = await startRetraining(
      stack.client,
      { modelId, dataset: { keys: ['data/jan.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
    const status = await handle.result();
    if (name) await recordHistory(stack.client, name, handle.workflowId);
    const attempts = await tenant.store.list(keys.attempts(modelId, status.runId));
    return { status, seconds: (Date.now() - started) / 1000, attempts };
  };
  const stages = (s: RunStatus) => s.timings.map((t) => t.stage);
  let first: Awaited<ReturnType<typeof run>>;

  it('fingerprints a run that trains, on its status, attempt records and card', async () => {
    first = await run(config);
    const s = first.status;
    assert.equal(s.outcome, 'promoted');
    assert.match(s.fingerprint ?? '', /^[0-9a-f]{64}$/);
    assert.equal(s.reused, null);
    assert.ok(stages(s).includes('train'));
    const attempt = AttemptRecord.parse(await tenant.store.getJson(first.attempts[0]!));
    assert.equal(attempt.fingerprint, s.fingerprint);
    assert.equal((await readCard(tenant.store, modelId, 1)).fingerprint, s.fingerprint);
    assert.ok(await tenant.store.exists(keys.experiment(modelId, s.fingerprint!)), 'training recorded');
  });

  it('reuses that training for the same request: nothing trained, said in status, audit, card and ct report', async () => {
    const second = await run(config, 'pipeline-reused-training');
    const s = second.status;
    console.log(`first run ${first.seconds.toFixed(1)} s (trained), second ${second.seconds.toFixed(1)} s (reused)`);
    assert.equal(s.outcome, 'promoted', 'gated and approved again on the current champion');
    assert.equal(s.fingerprint, first.status.fingerprint);
    assert.equal(s.reused?.workflowId, first.status.workflowId);
    assert.equal(s.reused?.deviceSecondsKind, 'cpu');
    assert.ok(s.reused.deviceSeconds > 0);
    assert.ok(!stages(s).includes('train'), `stages ${stages(s).join(',')}`);
    assert.deepEqual(second.attempts, [], 'no training attempt');
    assert.equal(s.evaluation?.champion?.version, 1, 'evaluated against the champion it may replace');
    assert.ok(s.verdict?.passed);
    assert.equal(s.registered?.version, 2);
    const card = await readCard(tenant.store, modelId, 2);
    assert.deepEqual(card.reusedFrom, { workflowId: first.status.workflowId, runId: first.status.runId });
    assert.equal(card.fingerprint, s.fingerprint);

    const audit = await createAuditLog(tenant.config).records(modelId);
    const reused = audit.filter((r) => r.kind === 'training-reused');
    assert.equal(reused.length, 1);
    assert.equal(reused[0]!.details.workflowId, first.status.workflowId);
    assert.match(formatRunSummary(s), /training: reused .* \(identical fingerprint\)/);

    const report = await buildReport(stack.client, tenant.store, tenant.config, { since: '1h' });
    assert.equal(report.fleet.scrapAvoided.reusedRuns, 1);
    assert.equal(report.fleet.scrapAvoided.reusedCpuSeconds, s.reused.deviceSeconds);
  });

  it('trains again when a hyperparameter changes, or with reuse: never', async () => {
    const changed = await run({
      ...config,
      hyperparameters: { ...config.hyperparameters, learningRate: 0.002 },
    });
    assert.notEqual(changed.status.fingerprint, first.status.fingerprint);
    assert.equal(changed.status.reused, null);
    assert.ok(stages(changed.status).includes('train'));

    const never = await run({ ...config, reuse: 'never' });
    assert.equal(never.status.fingerprint, first.status.fingerprint, 'same fingerprint, yet trained');
    assert.equal(never.status.reused, null);
    assert.equal(never.attempts.length, 1);
  });
});
