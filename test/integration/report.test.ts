// ct report against runs whose outcomes are known: a promoted run, a gate rejection, a crash resumed from its
// checkpoint, and a run cancelled while it waited for approval (real servers, real trainer).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRetraining, runStatus } from '../../client';
import { AttemptRecord } from '../../core/attempts';
import { keys } from '../../core/keys';
import type { ModelConfig } from '../../core/modelConfig';
import { buildReport, formatReport } from '../../cli/report';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { startTestStack, type TestStack } from '../helpers/stack';

describe('ct report', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  const runIds: Record<string, string> = {};

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    await tenant.store.ensureBucket();
    await tenant.store.put('data/jan.parquet', flightsParquet(await readFlightsSlice(0, 20_000)));
    await stack.startWorkers(tenant.config);
  });
  after(async () => stack?.stop());

  const start = (modelConfig: ModelConfig) =>
    startRetraining(
      stack.client,
      { modelId: modelConfig.modelId, dataset: { keys: ['data/jan.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
  const deviceSeconds = async (modelId: string) => {
    const ks = await tenant.store.list(keys.attempts(modelId, runIds[modelId]!));
    const records = await Promise.all(ks.map(async (k) => AttemptRecord.parse(await tenant.store.getJson(k))));
    return { records, total: records.reduce((s, r) => s + r.deviceSeconds, 0) };
  };

  it('counts each run by how it ended and charges its compute to the right cause', async () => {
    const base = testModelConfig();
    const ok = await start({ ...base, modelId: 'rep-ok' });
    const gate = await start({ ...base, modelId: 'rep-gate', gate: { ...base.gate, minimum: { rocAuc: 0.99 } } });
    const crash = await start({
      ...testModelConfig({
        command: ['env', 'CT_TRAINER_FAIL_AT_STEP=12', 'python3', 'trainers/flight_delay/train.py'],
      }),
      modelId: 'rep-crash',
    });
    const waiting = await start({ ...testModelConfig({ approval: 'manual' }), modelId: 'rep-cancel' });
    for (const [id, h] of Object.entries({ 'rep-ok': ok, 'rep-gate': gate, 'rep-crash': crash, 'rep-cancel': waiting }))
      runIds[id] = h.firstExecutionRunId;
    assert.equal((await ok.result()).outcome, 'promoted');
    assert.equal((await gate.result()).outcome, 'rejected-by-gate');
    assert.equal((await crash.result()).outcome, 'promoted');
    for (let i = 0; i < 600 && (await runStatus(stack.client, waiting.workflowId)).stage !== 'approval'; i++)
      await new Promise((r) => setTimeout(r, 200));
    await waiting.cancel();
    await assert.rejects(waiting.result());

    const report = await buildReport(stack.client, tenant.store, tenant.config, { since: '1h' });
    const { fleet, models } = report;
    assert.equal(fleet.throughput.runs, 4);
    assert.deepEqual(Object.fromEntries(Object.entries(fleet.throughput.byEnd).filter(([, n]) => n > 0)), {
      promoted: 2,
      'rejected-by-gate': 1,
      cancelled: 1,
    });
    assert.equal(fleet.cycleTime.triggerToPromotedSeconds.count, 2);
    assert.ok(fleet.cycleTime.gpuQueueSeconds.count >= 4, 'every run that trained waited for a GPU slot');

    // Scrap: the whole gate-rejected and cancelled runs; of the crash, the steps after its last checkpoint.
    const gateCompute = await deviceSeconds('rep-gate');
    const cancelCompute = await deviceSeconds('rep-cancel');
    const crashCompute = await deviceSeconds('rep-crash');
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;
    assert.ok(near(models['rep-gate']!.scrap.byCause['rejected-by-gate'], gateCompute.total));
    assert.ok(near(models['rep-cancel']!.scrap.byCause.cancelled, cancelCompute.total));
    assert.equal(models['rep-ok']!.scrap.deviceSeconds, 0, 'a clean promoted run scraps nothing');
    const [crashed, resumed] = crashCompute.records.sort((a, b) => a.attempt - b.attempt);
    assert.equal(crashed?.outcome, 'crashed');
    assert.equal(resumed?.resumedFromStep, 10, 'checkpoints every 5 steps: resumed from step 10');
    assert.equal(models['rep-crash']!.scrap.stepsRedone, crashed.lastStep - 10);
    // Lost work is what the trainer reported past the checkpoint resumed from (its last progress event may be at it).
    const lost = models['rep-crash']!.scrap.byCause.crashed;
    const expected = (crashed.deviceSeconds * (crashed.lastStep - 10)) / (crashed.lastStep - crashed.resumedFromStep);
    assert.ok(near(lost, expected), `crashed scrap ${lost}, expected ${expected}`);
    assert.ok(lost < crashed.deviceSeconds, 'the checkpointed part is kept');
    const all = [gateCompute, cancelCompute, crashCompute, await deviceSeconds('rep-ok')].reduce(
      (s, c) => s + c.total,
      0,
    );
    assert.ok(near(fleet.compute.deviceSeconds, all));
    assert.ok(near(fleet.scrap.share!, fleet.scrap.deviceSeconds / all));
    assert.match(formatReport(report), /fleet: 4 run\(s\) — promoted 2 · rejected-by-gate 1 · cancelled 1/);
  });

  it('says so for an empty window, and refuses an unknown model and a window that ends before it starts', async () => {
    const empty = await buildReport(stack.client, tenant.store, tenant.config, {
      since: '2020-01-01T00:00:00Z',
      until: '2020-02-01T00:00:00Z',
    });
    assert.equal(empty.fleet.throughput.runs, 0);
    assert.match(formatReport(empty), /no runs in this window/);
    await assert.rejects(
      buildReport(stack.client, tenant.store, tenant.config, { model: 'nobody' }),
      /unknown model "nobody"/,
    );
    await assert.rejects(
      buildReport(stack.client, tenant.store, tenant.config, { since: '2026-02-01', until: '2026-01-01' }),
      /--since \(2026-02-01T00:00:00.000Z\) must be before --until/,
    );
    await assert.rejects(
      buildReport(stack.client, tenant.store, tenant.config, { since: 'yesterday' }),
      /--since "yesterday" is neither a duration/,
    );
  });
});
