// ct report against runs whose outcomes are known: a promoted run, a gate rejection, a crash resumed from its
// checkpoint, and a run cancelled while it waited for approval (real servers, real trainer).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRetraining, runStatus } from '../../client';
import { AttemptRecord } from '../../core/attempts';
import { FactoryReport } from '../../core/factoryReport';
import { slotName } from '../../core/gpuIdle';
import { keys } from '../../core/keys';
import type { ModelConfig } from '../../core/modelConfig';
import { buildReport, formatReport, HEADLINE } from '../../cli/report';
import { freePort } from '../../stack/processes';
import { ctEnv, runCt } from '../helpers/ct';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { startTestStack, type TestStack } from '../helpers/stack';

describe('ct report', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  const runIds: Record<string, string> = {};
  const testStart = new Date();

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
    // Lost work is the crashed attempt's time after the step-10 checkpoint it stored (and the next one resumed
    // from), whether or not the trainer reported a step after it.
    assert.equal(crashed.lastCheckpoint?.step, 10, 'the crashed attempt recorded its newest stored checkpoint');
    const lost = models['rep-crash']!.scrap.byCause.crashed;
    const afterCheckpoint = (Date.parse(crashed.endedAt) - Date.parse(crashed.lastCheckpoint.writtenAt)) / 1000;
    const expected = crashed.deviceSeconds * (afterCheckpoint / crashed.wallSeconds);
    assert.ok(near(lost, expected), `crashed scrap ${lost}, expected ${expected}`);
    assert.ok(lost > 0, `the crash lost the work after its checkpoint: ${JSON.stringify(crashed)}`);
    assert.ok(lost < crashed.deviceSeconds, 'the checkpointed part is kept');
    const all = [gateCompute, cancelCompute, crashCompute, await deviceSeconds('rep-ok')].reduce(
      (s, c) => s + c.total,
      0,
    );
    assert.ok(near(fleet.compute.deviceSeconds, all));
    assert.ok(near(fleet.scrap.share!, fleet.scrap.deviceSeconds / all));
    assert.match(formatReport(report), /fleet: 4 run\(s\) — promoted 2 · rejected-by-gate 1 · cancelled 1/);

    // GPU idle: every attempt ran on this process's one training slot; its busy time is the union of their intervals.
    const records = [gateCompute, cancelCompute, crashCompute, await deviceSeconds('rep-ok')].flatMap((c) => c.records);
    assert.deepEqual(
      report.gpuIdle.map((g) => g.slot),
      [slotName(os.hostname(), records[0]!.gpus)],
    );
    const [slot] = report.gpuIdle;
    assert.equal(slot!.attempts, records.length);
    const walls = records.map((r) => r.wallSeconds);
    // Wall seconds are timed by the worker, intervals come from millisecond timestamps: allow 50 ms either way.
    const sum = walls.reduce((a, b) => a + b, 0);
    assert.ok(
      slot!.busySeconds >= Math.max(...walls) - 0.05 && slot!.busySeconds <= sum + 0.05,
      `busy ${slot!.busySeconds} s between the longest attempt ${Math.max(...walls)} s and all attempts ${sum} s`,
    );
    assert.ok(Math.abs(slot!.idleShare - (1 - slot!.busySeconds / 3600)) < 1e-9, 'a one-hour window');
    assert.ok(slot!.idleShare > 0 && slot!.idleShare < 1);
    assert.match(formatReport(report), new RegExp(`idle per worker slot: ${slot!.slot} \\d+\\.\\d%`));
  });

  it("ct report --html writes one self-contained page whose numbers are the JSON report's", async () => {
    const env = ctEnv(tenant.config);
    const window = ['--since', testStart.toISOString(), '--until', new Date(Date.now() + 60_000).toISOString()];
    const file = path.join(stack.dir, 'report.html');
    const [json, html] = await Promise.all([
      runCt(['report', ...window, '--json'], env),
      runCt(['report', ...window, '--html', file], env),
    ]);
    assert.equal(json.status, 0, json.stderr);
    assert.equal(html.status, 0, html.stderr);
    assert.match(html.stdout, new RegExp(`wrote ${file}`));
    const report = FactoryReport.parse(JSON.parse(json.stdout));
    const page = readFileSync(file, 'utf8');
    assert.doesNotMatch(page, /<script|<link|<iframe|<img|\b(src|href)=["']?https?:|url\(|@import/i, 'fetches nothing');
    for (const id of ['cycle-time', 'scrap', 'throughput'])
      assert.match(page, new RegExp(`<figure id="chart-${id}"><figcaption>[^<]*</figcaption><svg `), id);
    assert.deepEqual(
      readdirSync(stack.dir).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary file left',
    );
    // Each row's exact values (data-value) are the JSON report's headline numbers.
    const values = (row: string) => [...row.matchAll(/data-value="([^"]*)"/g)].map((m) => m[1]);
    const sections = { '(fleet)': report.fleet, ...report.models };
    for (const [model, section] of Object.entries(sections)) {
      const row = new RegExp(`<tr data-model="${model.replace(/[()]/g, '\\$&')}">(.*?)</tr>`).exec(page);
      assert.ok(row, `a row for ${model}`);
      assert.deepEqual(
        values(row[1]!),
        HEADLINE.map((h) => String(h.value(section) ?? '')),
        model,
      );
    }
    assert.ok(page.includes('rep-crash') && page.includes('rep-gate'));
    const [slot] = report.gpuIdle;
    const slotRow = new RegExp(`<tr data-slot="${slot!.slot}">(.*?)</tr>`).exec(page);
    assert.deepEqual(values(slotRow![1]!), [slot!.attempts, slot!.busySeconds, slot!.idleShare].map(String));
  });

  it('refuses --html with --json, names a path it cannot write, and an endpoint that does not answer (exit 2)', async () => {
    const env = ctEnv(tenant.config);
    const [temporalPort, s3Port] = await Promise.all([freePort(), freePort()]);
    const nowhere = path.join(stack.dir, 'no-such-folder', 'report.html');
    const [both, unwritable, temporal, s3] = await Promise.all([
      runCt(['report', '--json', '--html', path.join(stack.dir, 'x.html')], env),
      runCt(['report', '--html', nowhere], env),
      runCt(['report', '--since', '1h'], { ...env, CT_TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}` }),
      runCt(['report', '--since', '1h'], { ...env, CT_S3_ENDPOINT: `http://127.0.0.1:${s3Port}` }),
    ]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /give at most one of --json, --csv and --html/);
    assert.equal(unwritable.status, 2);
    assert.match(unwritable.stderr, new RegExp(`cannot write --html ${nowhere}: no such folder`));
    assert.ok(!existsSync(nowhere));
    assert.equal(temporal.status, 2, temporal.stderr);
    assert.match(temporal.stderr, new RegExp(`^ct: cannot reach Temporal at 127\\.0\\.0\\.1:${temporalPort}: `));
    assert.equal(s3.status, 2, s3.stderr);
    assert.match(s3.stderr, new RegExp(`^ct: object store http://127\\.0\\.0\\.1:${s3Port} unreachable during `));
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
