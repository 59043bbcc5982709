// Triggers on a real stack: a Temporal Schedule runs a drift check of the newest flights window against the
// champion's reference profile and the supervisor retrains; the ct schedule commands (the webhook: webhook.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRetraining, supervisorStatus } from '../../client';
import type { DriftCheckResult } from '../../activities/driftActivities';
import { keys, workflowIds } from '../../core/keys';
import { ModelConfig } from '../../core/modelConfig';
import { ReferenceProfile } from '../../core/drift';
import type { driftCheck } from '../../workflows';
import { ctEnv, runCt } from '../helpers/ct';
import { type FlightRows, flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { causeChain } from '../helpers/failures';
import { until } from '../helpers/until';
import { recordHistory, startTestStack, testLogger, type TestStack } from '../helpers/stack';

/** Every `step`-th row: a sample spread over the whole period instead of its first hours. */
function every(rows: FlightRows, step: number): FlightRows {
  const pick = <T>(a: T[]) => a.filter((_, i) => i % step === 0);
  return {
    date: pick(rows.date),
    delay: pick(rows.delay),
    distance: pick(rows.distance),
    origin: pick(rows.origin),
    destination: pick(rows.destination),
  };
}

// Row ranges of the real data (sorted by date): January is rows 0–~510k, June the last ~480k.
const JANUARY = [0, 510_000] as const;
const JANUARY_WEEK_2 = [118_000, 233_000] as const;
const JUNE = [2_520_000, 2_990_000] as const;

describe('drift triggers', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  const modelId = 'flight-delay';
  const queue = () => ({ taskQueue: tenant.config.taskQueue });

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    await tenant.store.ensureBucket();
    // Half of January's flights: the reference profile needs enough rows for its adaptive thresholds.
    await tenant.store.put('windows/2001-01.parquet', flightsParquet(every(await readFlightsSlice(...JANUARY), 2)));
    const base = testModelConfig({ approval: 'auto', hyperparameters: { epochs: 1, batchSize: 4096 } });
    const config = ModelConfig.parse({
      ...base,
      dataset: { ...base.dataset, sampleRows: undefined },
      continuousTraining: { data: { prefix: 'windows/' }, cooldown: '1h' },
    });
    await tenant.store.putJson(keys.registeredConfig(modelId), config);
    await stack.startWorkers(tenant.config);
    // v1, trained on January: its reference profile is January's. (Started directly, not through the supervisor,
    // whose cooldown after a run would absorb the drift report this file is about.)
    const first = await startRetraining(
      stack.client,
      {
        modelId,
        dataset: { keys: ['windows/2001-01.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'test', reason: 'first champion' },
      },
      queue(),
    );
    assert.equal((await first.result()).registered?.version, 1);
  });
  after(async () => stack?.stop());

  it("stores the champion's reference profile with the version", async () => {
    const profile = ReferenceProfile.parse(await tenant.store.getJson(keys.referenceProfile(modelId, 1)));
    assert.ok(profile.rows > 10_000, `profiled ${profile.rows} training rows`);
  });

  it('a week of January against January: no dataset drift', async () => {
    await tenant.store.put('check/2001-01-week2.parquet', flightsParquet(await readFlightsSlice(...JANUARY_WEEK_2)));
    const result = (await stack.client.workflow.execute<typeof driftCheck>('driftCheck', {
      workflowId: workflowIds.driftCheck(modelId, 'jan-week-2'),
      taskQueue: tenant.config.taskQueue,
      args: [{ modelId, windowKeys: ['check/2001-01-week2.parquet'] }],
    })) as DriftCheckResult & { ack: { action: string } };
    testLogger.warn({ report: result.report }, 'January week 2 vs January');
    assert.equal(result.status, 'checked');
    assert.equal(result.report?.datasetDrift, false, `drifted: ${result.report?.driftedFeatures.join(', ')}`);
    assert.equal(result.ack.action, 'recorded');
    const stored = (await tenant.store.getJson(result.reportKey!)) as {
      report: { schemaVersion: number; features: unknown[] };
    };
    assert.equal(stored.report.schemaVersion, 1);
    assert.equal(stored.report.features.length, 5);
    await recordHistory(stack.client, 'drift-check', workflowIds.driftCheck(modelId, 'jan-week-2'));
  });

  it('a schedule triggers a drift check of the newest window (June) that ends in a retrain', async () => {
    await tenant.store.put('windows/2001-06.parquet', flightsParquet(every(await readFlightsSlice(...JUNE), 2)));
    const created = await runCt(
      ['schedule', 'create', modelId, '--every', '1h', '--retrain-every', '7d'],
      ctEnv(tenant.config),
    );
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /created ct\/flight-delay\/drift-check, ct\/flight-delay\/retrain/);
    const listed = await runCt(['schedule', 'list', modelId], ctEnv(tenant.config));
    assert.match(listed.stdout, /ct\/flight-delay\/drift-check\s+active/);
    await stack.client.schedule.getHandle(workflowIds.driftSchedule(modelId)).trigger();
    const status = await until('a drift incident with a run', async () => {
      const s = await supervisorStatus(stack.client, modelId);
      return s.incident?.kind === 'drift' && s.incident.run ? s : null;
    });
    const evidence = status.incident!.evidence[0]!;
    testLogger.warn({ evidence }, 'June vs January');
    assert.equal(evidence.source, 'drift-check');
    assert.ok(evidence.reportKey?.startsWith(`drift/${modelId}/reports/`));
    assert.ok((evidence.driftedFeatures ?? []).length > 0);
    const run = await stack.client.workflow.getHandle(status.incident!.run!.workflowId).describe();
    assert.ok(['RUNNING', 'COMPLETED'].includes(run.status.name));
    // The weekly retrain schedule asks the supervisor too; with a run in flight the request joins its incident.
    await stack.client.schedule.getHandle(workflowIds.retrainSchedule(modelId)).trigger();
    const joined = await until('the scheduled request on the incident', async () => {
      const s = await supervisorStatus(stack.client, modelId);
      return s.incident?.evidence.find((e) => e.kind === 'schedule') ? s : null;
    });
    assert.equal(joined.incident?.id, status.incident!.id, 'no second incident, no second run');
    // A backfill runs the checks the schedule would have run in a past range (two hourly fire times here).
    const checks = async () => {
      let n = 0;
      for await (const w of stack.client.workflow.list({
        query: `WorkflowType = 'driftCheck' AND ExecutionStatus = 'Completed'`,
      }))
        if (w.workflowId.startsWith('drift-check/flight-delay-')) n++;
      return n;
    };
    const before = await checks();
    const from = new Date(Date.now() - 3 * 3_600_000 + 60_000).toISOString();
    const to = new Date(Date.now() - 3_600_000 + 60_000).toISOString();
    const backfill = await runCt(['schedule', 'backfill', modelId, '--from', from, '--to', to], ctEnv(tenant.config));
    assert.equal(backfill.status, 0, backfill.stderr);
    await until('two backfilled drift checks', async () => (await checks()) >= before + 2);
    const afterBackfill = await supervisorStatus(stack.client, modelId);
    assert.equal(afterBackfill.incident?.id, status.incident!.id, 'their reports joined the open incident');
    const badRange = await runCt(['schedule', 'backfill', modelId, '--from', to, '--to', from], ctEnv(tenant.config));
    assert.equal(badRange.status, 2);
    assert.match(badRange.stderr, /--from must be before --to/);
    assert.equal((await runCt(['schedule', 'pause', modelId], ctEnv(tenant.config))).status, 0);
    const paused = (await runCt(['schedule', 'list', modelId], ctEnv(tenant.config))).stdout;
    assert.match(paused, /ct\/flight-delay\/drift-check\s+PAUSED/);
    assert.match(paused, /ct\/flight-delay\/retrain\s+PAUSED/);
    assert.equal((await runCt(['schedule', 'delete', modelId], ctEnv(tenant.config))).status, 0);
    const gone = await runCt(['schedule', 'delete', modelId], ctEnv(tenant.config));
    assert.notEqual(gone.status, 0);
    assert.match(gone.stderr, /no drift-check or retrain schedule for model "flight-delay"/);
  });

  it('ct drift reads s3:// windows: June drifts against January (exit 3), a January week does not (exit 0)', async () => {
    const bucket = tenant.config.s3.bucket;
    const drift = (current: string) =>
      runCt(
        [
          'drift',
          '--reference',
          `s3://${bucket}/windows/2001-01.parquet`,
          '--current',
          `s3://${bucket}/${current}`,
          '--model',
          'models/flight-delay.yaml',
        ],
        ctEnv(tenant.config),
      );
    const june = await drift('windows/2001-06.parquet');
    assert.equal(june.status, 3, june.stderr);
    assert.match(june.stdout, /DATASET DRIFT/);
    const week = await drift('check/2001-01-week2.parquet');
    assert.equal(week.status, 0, week.stderr);
    assert.match(week.stdout, /no dataset drift/);
    const missing = await drift('windows/2001-13.parquet');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /2001-13\.parquet: no such object/);
  });

  it('a drift check refuses an empty window and an unknown model, naming them', async () => {
    await tenant.store.put(
      'check/empty.parquet',
      flightsParquet({ date: [], delay: [], distance: [], origin: [], destination: [] }),
    );
    const check = (id: string, args: object) =>
      stack.client.workflow.execute<typeof driftCheck>('driftCheck', {
        workflowId: workflowIds.driftCheck(modelId, id),
        taskQueue: tenant.config.taskQueue,
        args: [args as never],
      });
    await assert.rejects(check('empty', { modelId, windowKeys: ['check/empty.parquet'] }), (err: Error) =>
      /has no rows/.test(causeChain(err)),
    );
    await assert.rejects(check('ghost', { modelId: 'ghost' }), (err: Error) =>
      /"ghost" has no registered configuration/.test(causeChain(err)),
    );
    await assert.rejects(check('bad', { modelId, windowKeys: [] }), (err: Error) => /windowKeys/.test(causeChain(err)));
  });

  it('ct schedule and ct supervisor refuse bad input', async () => {
    const none = await runCt(['supervisor', 'status', 'nobody'], ctEnv(tenant.config));
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no supervisor ct\/nobody is running/);
    const noReason = await runCt(['supervisor', 'retrain', modelId, '--as', 'ana'], ctEnv(tenant.config));
    assert.equal(noReason.status, 2);
    assert.match(noReason.stderr, /required option '--reason <text>' not specified/);
    const both = await runCt(
      ['schedule', 'create', modelId, '--every', '1h', '--cron', '0 * * * *'],
      ctEnv(tenant.config),
    );
    assert.equal(both.status, 2);
    assert.match(both.stderr, /exactly one of --every/);
    const unknown = await runCt(['schedule', 'create', 'nobody', '--every', '1h'], ctEnv(tenant.config));
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /model "nobody" is not registered/);
    const cron = await runCt(['schedule', 'create', modelId, '--cron', '0 3 * * *', '--paused'], ctEnv(tenant.config));
    assert.equal(cron.status, 0, cron.stderr);
    assert.match((await runCt(['schedule', 'list', modelId, '--json'], ctEnv(tenant.config))).stdout, /"paused": true/);
    const twice = await runCt(['schedule', 'create', modelId, '--every', '1h'], ctEnv(tenant.config));
    assert.equal(twice.status, 2, 'an existing schedule is not overwritten');
    assert.match(twice.stderr, /ct\/flight-delay\/drift-check already exists: delete it first/);
    assert.equal((await runCt(['schedule', 'delete', modelId], ctEnv(tenant.config))).status, 0);
    const badEvery = await runCt(['schedule', 'create', modelId, '--every', 'soon'], ctEnv(tenant.config));
    assert.equal(badEvery.status, 2);
    assert.match(badEvery.stderr, /every: an interval like 30m/);
  });
});
