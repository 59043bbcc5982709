// The multiclass example end to end on the real servers, as `npm run example:digits` runs it: scikit-learn's
// digits in S3, the CNN trainer, a drift check that finds February drifted, the supervisor's retrain gated
// against the January champion with McNemar on per-image correctness.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRetraining } from '../../client';
import { supervisorStatus } from '../../client/supervisor';
import { readCard } from '../../adapters/registryStore';
import { workflowIds } from '../../core/keys';
import { renderModelCardMarkdown } from '../../core/modelCard';
import { digitsMonthKey, ingestDigits } from '../../cli/ingestDigits';
import { registerModelConfig } from '../../cli/models';
import { projectRoot } from '../../stack/paths';
import type { driftCheck, retrainingPipeline } from '../../workflows';
import { startTestStack, type TestStack } from '../helpers/stack';
import { until } from '../helpers/until';

const DIGITS = Array.from({ length: 10 }, (_, k) => String(k));

describe('the digits example (multiclass) end to end', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    await tenant.store.ensureBucket();
    assert.deepEqual(await ingestDigits(tenant.store), [digitsMonthKey('2026-01'), digitsMonthKey('2026-02')]);
    await registerModelConfig(tenant.store, path.join(projectRoot, 'models', 'digits.yaml'));
    await stack.startWorkers(tenant.config);
  });
  after(async () => stack?.stop());

  it('trains a January champion, finds February drifted, and the retrain passes the gate against the champion', async () => {
    const first = await startRetraining(
      stack.client,
      {
        modelId: 'digits',
        dataset: { keys: [digitsMonthKey('2026-01')] },
        trigger: { kind: 'manual', requestedBy: 'test', reason: 'first champion' },
      },
      { taskQueue: tenant.config.taskQueue },
    );
    const r1 = await first.result();
    assert.equal(r1.outcome, 'promoted', r1.error ?? r1.verdict?.reasons.join('; '));
    const e1 = r1.evaluation!;
    assert.equal(e1.task, 'multiclass');
    assert.deepEqual(Object.keys(e1.candidate.overall).sort(), ['accuracy', 'logLoss', 'macroF1', 'recall']);
    assert.ok(e1.candidate.overall.accuracy! > 0.9, `January accuracy ${e1.candidate.overall.accuracy}`);
    // Without sliceBy, the slices are the true digits, each with its recall.
    assert.equal(e1.sliceBy, 'digit');
    assert.deepEqual(e1.candidate.slices.map((s) => s.value).sort(), DIGITS);
    assert.ok(e1.candidate.slices.every((s) => s.metrics.recall! >= 0 && s.metrics.recall! <= 1));

    const check = await stack.client.workflow.execute<typeof driftCheck>('driftCheck', {
      taskQueue: tenant.config.taskQueue,
      workflowId: workflowIds.driftCheck('digits', 'february'),
      args: [{ modelId: 'digits' }],
    });
    assert.deepEqual(check.window, [digitsMonthKey('2026-02')], 'the newest window is checked');
    assert.equal(check.ack?.action, 'started', `the drift check opens an incident (${check.reason})`);

    const runId = await until(
      'the supervisor to start the retrain',
      async () => (await supervisorStatus(stack.client, 'digits')).incident?.run?.workflowId,
    );
    const r2 = await stack.client.workflow.getHandle<typeof retrainingPipeline>(runId).result();
    assert.equal(r2.outcome, 'promoted', r2.error ?? r2.verdict?.reasons.join('; '));
    assert.equal(r2.registered?.version, 2);
    assert.equal(r2.registered.championNow, 2);
    const e2 = r2.evaluation!;
    assert.equal(e2.champion?.version, 1, 'evaluated against the January champion');
    assert.ok(
      e2.candidate.overall.accuracy! > e2.champion.overall.accuracy! + 0.1,
      `February: candidate ${e2.candidate.overall.accuracy} vs champion ${e2.champion.overall.accuracy}`,
    );
    const mcnemar = r2.verdict!.checks.find((c) => c.rule === 'mcnemar');
    assert.ok(mcnemar?.passed, `McNemar check ran and passed: ${JSON.stringify(r2.verdict!.checks)}`);
    assert.equal(r2.verdict!.comparison?.method, 'mcnemar');

    const card = await readCard(tenant.store, 'digits', 2);
    assert.equal(card.evaluation.task, 'multiclass');
    const markdown = renderModelCardMarkdown(card);
    assert.match(markdown, /Task multiclass\./);
    assert.match(markdown, /\| slice \| rows \| recall \|/);
    assert.doesNotMatch(markdown, /threshold/, 'no decision threshold for a multiclass model');
  });
});
