// The whole retrainingPipeline on real flights data, real PyTorch trainer, real Temporal and MinIO.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { startRetraining, decideRun, runStatus } from '../../client';
import { keys } from '../../core/keys';
import { readCard } from '../../adapters/registryStore';
import { registerModelConfig, showRegistry } from '../../cli/models';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { recordHistory, startTestStack, type TestStack } from '../helpers/stack';
import { payloadValue } from '../helpers/codec';

describe('retrainingPipeline end to end', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    await tenant.store.ensureBucket();
    const flights = await readFlightsSlice(0, 40_000);
    await tenant.store.put('data/jan-a.parquet', flightsParquet(flights));
    const later = await readFlightsSlice(400_000, 440_000);
    await tenant.store.put('data/jan-b.parquet', flightsParquet(later));
    await stack.startWorkers(tenant.config);
  });
  after(async () => stack?.stop());

  it('trains, evaluates, gates and promotes v1, then v2 is compared against v1', async () => {
    const modelConfig = testModelConfig();
    const first = await startRetraining(
      stack.client,
      {
        modelId: 'flight-delay',
        dataset: { keys: ['data/jan-a.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'test', reason: 'first' },
        modelConfig,
      },
      { taskQueue: tenant.config.taskQueue },
    );
    const r1 = await first.result();
    await recordHistory(stack.client, 'pipeline-promoted', first.workflowId);
    assert.equal(r1.outcome, 'promoted');
    assert.equal(r1.registered?.version, 1);
    assert.equal(r1.evaluation?.champion, null, 'no champion for the first run');
    assert.ok(r1.evaluation.candidate.overall.rocAuc! > 0.5, `rocAuc ${r1.evaluation.candidate.overall.rocAuc}`);
    assert.ok(r1.evaluation.candidate.slices.length > 0, 'per-origin slices computed');
    // register twice: as the challenger once the gate passed, then promoted after approval
    assert.deepEqual(
      r1.timings.map((t) => t.stage),
      ['starting', 'validate', 'prepare', 'train', 'evaluate', 'gate', 'register', 'approval', 'register'],
    );
    assert.ok(
      r1.training &&
        r1.training.step > 0 &&
        r1.training.checkpointKey?.startsWith(keys.checkpoints('flight-delay', r1.runId)),
      'progress signal reached the workflow',
    );

    const desc = await first.describe();
    assert.deepEqual(
      desc.typedSearchAttributes.get(await import('../../core/searchAttributes').then((m) => m.CtModel)),
      'flight-delay',
    );
    assert.equal(
      desc.typedSearchAttributes.get(await import('../../core/searchAttributes').then((m) => m.CtStage)),
      'done',
    );

    const second = await startRetraining(
      stack.client,
      { modelId: 'flight-delay', dataset: { keys: ['data/jan-b.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
    const r2 = await second.result();
    assert.equal(r2.evaluation?.champion?.version, 1, 'second run is evaluated against champion v1');
    assert.equal(r2.verdict?.championVersion, 1);
    assert.ok(r2.verdict.checks.some((c) => c.rule === 'maxRegression'));
    const registry = await showRegistry(tenant.store, 'flight-delay');
    assert.equal(registry.versions.length, r2.outcome === 'promoted' ? 2 : 1);
    assert.equal(registry.aliases.champion, r2.outcome === 'promoted' ? 2 : 1);
    const card = await tenant.store.getBytes(keys.versionCardMarkdown('flight-delay', 1));
    assert.match(Buffer.from(card).toString(), /# flight-delay v1[\s\S]*git commit/);
  });

  it('gates statistically: paired bootstrap non-inferiority and per-slice rules, recorded on the verdict', async () => {
    const base = testModelConfig();
    const modelConfig = {
      ...base,
      gate: {
        ...base.gate,
        maxRegression: { rocAuc: 0.05 },
        comparison: { method: 'bootstrap' as const, metric: 'rocAuc' as const, confidence: 0.9, resamples: 300 },
        slices: { metric: 'rocAuc' as const, maxRegression: 0.5, minRows: 50 },
      },
    };
    const handle = await startRetraining(
      stack.client,
      { modelId: 'flight-delay', dataset: { keys: ['data/jan-b.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
    const result = await handle.result();
    await recordHistory(stack.client, 'pipeline-statistical-gate', handle.workflowId);
    const verdict = result.verdict!;
    assert.equal(verdict.comparison?.method, 'bootstrap');
    assert.ok(
      verdict.comparison.lower! <= verdict.comparison.estimate &&
        verdict.comparison.estimate <= verdict.comparison.upper!,
    );
    assert.equal(verdict.holdoutSha256, result.evaluation!.holdoutSha256);
    assert.equal(verdict.championVersion, result.evaluation!.champion!.version);
    assert.ok(verdict.checks.some((c) => c.rule === 'nonInferiority'));
    assert.ok(verdict.checks.some((c) => c.rule === 'slice' && c.slice));
    assert.ok(
      !verdict.checks.some((c) => c.rule === 'maxRegression' && c.metric === 'rocAuc'),
      'the bootstrap replaces the point check',
    );
  });

  it('uses the registered model config, waits for approval and records who approved', async () => {
    const file = path.join(stack.dir, 'manual.json');
    writeFileSync(file, JSON.stringify({ ...testModelConfig({ approval: 'manual' }), modelId: 'flight-delay-manual' }));
    await registerModelConfig(tenant.store, file);
    const handle = await startRetraining(
      stack.client,
      {
        modelId: 'flight-delay-manual',
        dataset: { keys: ['data/jan-a.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'alice', reason: 'r' },
      },
      { taskQueue: tenant.config.taskQueue },
    );
    await assert.rejects(decideRun(stack.client, handle.workflowId, 'approved', 'bob'), /not awaiting approval/);
    for (let i = 0; i < 300 && (await runStatus(stack.client, handle.workflowId)).stage !== 'approval'; i++)
      await new Promise((r) => setTimeout(r, 200));
    await assert.rejects(decideRun(stack.client, handle.workflowId, 'approved', '  '), /name who decides/);
    // What the Web UI shows as the workflow's current details.
    const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    assert.match(
      metadata.currentDetails,
      /stage \*\*approval\*\*[\s\S]*waiting for approval by anyone but the requester \(0\/1\)/,
    );
    // Waiting for approval, the candidate is already a registered version: the challenger.
    const waitingView = await showRegistry(tenant.store, 'flight-delay-manual');
    const challenger = waitingView.aliases.challenger;
    assert.ok(challenger !== undefined, 'challenger alias set while awaiting approval');
    assert.equal(waitingView.versions.find((v) => v.version === challenger)?.decidedBy, 'pending');
    const decision = await decideRun(stack.client, handle.workflowId, 'approved', 'bob', 'looks good');
    assert.equal(decision.decision?.by, 'bob');
    await assert.rejects(
      decideRun(stack.client, handle.workflowId, 'rejected', 'carol'),
      /already approved by bob|not awaiting approval: it has finished/,
    );
    const result = await handle.result();
    await recordHistory(stack.client, 'pipeline-manual-approval', handle.workflowId);
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.decision?.mode, 'manual');
    const afterView = await showRegistry(tenant.store, 'flight-delay-manual');
    assert.deepEqual(afterView.aliases, { champion: challenger }, 'the challenger became champion; no challenger left');
    assert.equal(afterView.versions.find((v) => v.version === challenger)?.decidedBy, 'approved by bob');

    // A rejected challenger keeps its version (with the rejection on its card) and loses the alias.
    const rejected = await startRetraining(
      stack.client,
      {
        modelId: 'flight-delay-manual',
        dataset: { keys: ['data/jan-b.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'alice', reason: 'r2' },
      },
      { taskQueue: tenant.config.taskQueue },
    );
    for (let i = 0; i < 300 && (await runStatus(stack.client, rejected.workflowId)).stage !== 'approval'; i++)
      await new Promise((r) => setTimeout(r, 200));
    const r2 = await runStatus(stack.client, rejected.workflowId);
    assert.equal(r2.stage, 'approval', 'the second candidate passed the gate and waits as the challenger');
    {
      await decideRun(stack.client, rejected.workflowId, 'rejected', 'bob', 'not now');
      assert.equal((await rejected.result()).outcome, 'rejected');
      const view = await showRegistry(tenant.store, 'flight-delay-manual');
      assert.deepEqual(view.aliases, { champion: challenger });
      assert.equal(view.versions.find((v) => v.version === r2.registered?.version)?.decidedBy, 'rejected by bob');
    }
  });

  it('evaluates and gates again when the champion changes while the run waits for approval', async () => {
    const manual = { ...testModelConfig({ approval: 'manual' }), modelId: 'flight-delay-regate' };
    const auto = { ...testModelConfig(), modelId: 'flight-delay-regate' };
    const start = (modelConfig: typeof manual, key: string) =>
      startRetraining(
        stack.client,
        { modelId: 'flight-delay-regate', dataset: { keys: [key] }, modelConfig },
        { taskQueue: tenant.config.taskQueue },
      );
    const waiting = await start(manual, 'data/jan-a.parquet');
    for (let i = 0; i < 300 && (await runStatus(stack.client, waiting.workflowId)).stage !== 'approval'; i++)
      await new Promise((r) => setTimeout(r, 200));
    const before = await runStatus(stack.client, waiting.workflowId);
    assert.equal(before.verdict?.championVersion, null, 'gated with no champion');
    const other = await (await start(auto, 'data/jan-b.parquet')).result();
    assert.ok(other.registered?.promoted, 'another run promoted its version meanwhile');
    const newChampion = other.registered.version;
    await decideRun(stack.client, waiting.workflowId, 'approved', 'bob');
    const result = await waiting.result();
    await recordHistory(stack.client, 'pipeline-regate', waiting.workflowId);
    assert.equal(
      result.verdict?.championVersion,
      newChampion,
      'the verdict that counts was computed against the new champion',
    );
    assert.equal(result.evaluation?.champion?.version, newChampion);
    assert.deepEqual(
      result.timings.filter((t) => t.stage === 'evaluate' || t.stage === 'gate').map((t) => t.stage),
      ['evaluate', 'gate', 'evaluate', 'gate'],
    );
    if (result.outcome === 'promoted') {
      assert.equal(
        (await showRegistry(tenant.store, 'flight-delay-regate')).aliases.champion,
        result.registered?.version,
      );
      // The card holds the verdict the promotion rests on, not the stale one of before the approval.
      const card = await readCard(tenant.store, 'flight-delay-regate', result.registered!.version);
      assert.equal(card.gate.championVersion, newChampion);
      assert.equal(card.decision?.by, 'bob');
    } else assert.equal(result.outcome, 'rejected-by-gate');
  });

  it('retries a crashed trainer and resumes from its checkpoint', async () => {
    const modelConfig = testModelConfig({
      command: ['env', 'CT_TRAINER_FAIL_AT_STEP=12', 'python3', 'trainers/flight_delay/train.py'],
    });
    const handle = await startRetraining(
      stack.client,
      { modelId: 'flight-delay', dataset: { keys: ['data/jan-a.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
    const result = await handle.result();
    assert.ok(result.outcome === 'promoted' || result.outcome === 'rejected-by-gate');
    assert.ok(result.training!.attempt >= 2, `attempt ${result.training!.attempt}`);
    const history = await handle.fetchHistory();
    const trained = history
      .events!.flatMap((e) => e.activityTaskCompletedEventAttributes?.result?.payloads ?? [])
      .map((p) => payloadValue(p))
      .find((r) => 'modelSha256' in r) as { resumedFrom: string; attempt: number };
    // Crashed right after step 12; checkpoints every 5 steps: the retry resumes from step 10.
    assert.match(trained.resumedFrom, /checkpoints\/step-00000010\.pt$/);
    assert.equal(trained.attempt, 2);
  });

  it('fails fast, without retries, when the trainer rejects its configuration', async () => {
    // A config that names no trainer rules (hyperparameterRules) is checked by the trainer itself, the last line.
    const { hyperparameterRules, ...trainer } = testModelConfig().trainer;
    assert.equal(hyperparameterRules, 'flight-delay');
    const modelConfig = { ...testModelConfig(), trainer, hyperparameters: { epochs: -1 } };
    const handle = await startRetraining(
      stack.client,
      { modelId: 'flight-delay', dataset: { keys: ['data/jan-a.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
    const err = await handle.result().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(
      String((err.cause as Error).message),
      /stage train failed: trainer rejected its configuration: .*epochs/,
    );
    const status = await runStatus(stack.client, handle.workflowId);
    assert.equal(status.outcome, 'failed');
    const history = await handle.fetchHistory();
    const attempts = history
      .events!.filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    assert.ok(
      attempts.every((a) => a === 1),
      `no retries: ${attempts.join(',')}`,
    );
  });
});
