// The continuousTraining supervisor on a real Temporal server with real workers and real retraining runs:
// a storm of reports, cooldown, persistence, pause, continue-as-new with a run in flight, bad input.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  decideRun,
  pauseSupervisor,
  reportDrift,
  requestRetrain,
  resumeSupervisor,
  runStatus,
  supervisorStatus,
} from '../../client';
import type { SupervisorStatus } from '../../core/continuousTraining';
import { keys, workflowIds } from '../../core/keys';
import { ModelConfig } from '../../core/modelConfig';
import { InvalidInputError } from '../../core/parse';
import type { continuousTraining, retrainingPipeline } from '../../workflows';
import { reportDriftUpdate, runFinishedSignal } from '../../workflows/definitions';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { until } from '../helpers/until';
import { startTestCodecServer } from '../helpers/codec';
import { tools } from '../../stack/paths';
import { recordHistory, startTestStack, type TestStack } from '../helpers/stack';
import { causeChain } from '../helpers/failures';
import { createSchedules, deleteSchedules } from '../../triggers/schedules';

const execFileAsync = promisify(execFile);
const driftAlert = (modelId: string, alertId: string, datasetDrift = true) => ({
  alertId,
  modelId,
  source: 'test',
  datasetDrift,
  driftedShare: datasetDrift ? 0.6 : 0,
  driftedFeatures: datasetDrift ? ['distance', 'origin', 'destination'] : [],
});

describe('continuousTraining supervisor', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  const queue = () => ({ taskQueue: tenant.config.taskQueue });

  /** Registers the test model under `modelId` with its data under data/ and the given supervisor settings. */
  const register = async (modelId: string, ct: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const config = ModelConfig.parse({
      ...testModelConfig({ approval: 'manual' }),
      modelId,
      continuousTraining: ct,
      ...extra,
    });
    await tenant.store.putJson(keys.registeredConfig(modelId), config);
    return config;
  };
  /** What a supervisor generation did: the activity types it scheduled, the Signals it received, its timers, the
   * ends of children it heard of. */
  const historyOf = async (workflowId: string, runId?: string) => {
    const events = (await stack.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    return {
      activities: events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []),
      signals: events.flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []),
      timers: events.filter((e) => e.timerStartedEventAttributes).length,
      childEnds: events.filter(
        (e) =>
          e.childWorkflowExecutionCompletedEventAttributes ||
          e.childWorkflowExecutionTerminatedEventAttributes ||
          e.childWorkflowExecutionFailedEventAttributes,
      ).length,
      pending:
        events.filter((e) => e.activityTaskScheduledEventAttributes).length -
        events.filter((e) => e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes).length,
      length: events.length,
      next: events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? null,
    };
  };
  /** Every generation of a supervisor from its first run on, oldest first, followed through continue-as-new. */
  const generationsOf = async (workflowId: string, firstRunId: string) => {
    const all: (Awaited<ReturnType<typeof historyOf>> & { runId: string })[] = [];
    for (let runId: string | null = firstRunId; runId; runId = all.at(-1)!.next)
      all.push({ runId, ...(await historyOf(workflowId, runId)) });
    return all;
  };
  /** Asks `modelId`'s supervisor for a manual run on the test data; returns the run's workflow id once started. */
  const manualRun = async (modelId: string, reason: string) => {
    const ack = await requestRetrain(
      stack.client,
      modelId,
      { requestedBy: 'ana', reason, datasetKeys: ['data/2001-01-01.parquet'] },
      queue(),
    );
    assert.equal(ack.action, 'started');
    return until(
      `the run of ${modelId}`,
      async () => (await supervisorStatus(stack.client, modelId)).incident?.run?.workflowId,
    );
  };
  const runsOf = async (modelId: string) => {
    const ids: string[] = [];
    for await (const w of stack.client.workflow.list({ query: `WorkflowType = 'retrainingPipeline'` }))
      if (w.workflowId.startsWith(`retrain/${modelId}/`)) ids.push(w.workflowId);
    return ids;
  };

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    await tenant.store.ensureBucket();
    await tenant.store.put('data/2001-01-01.parquet', flightsParquet(await readFlightsSlice(0, 20_000)));
    await stack.startWorkers(tenant.config);
  });
  after(async () => stack?.stop());

  it('200 concurrent drift reports start exactly one run; all are evidence; cooldown holds, then a new incident opens', async (t) => {
    await register('storm', { data: { prefix: 'data/' }, cooldown: '8s' });
    const started = Date.now();
    const acks = await Promise.all(
      Array.from({ length: Number(process.env.STORM ?? 200) }, (_, i) =>
        reportDrift(stack.client, driftAlert('storm', `storm-${i}`), queue()),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`${acks.length} concurrent reports answered in ${seconds.toFixed(2)} s`);
    assert.equal(
      acks.filter((a) => a.action === 'started').length,
      1,
      `one report opens the incident (sent in ${seconds}s)`,
    );
    assert.equal(
      acks.filter((a) => a.action === 'attached').length,
      acks.length - 1,
      'the others join it (retries under backpressure reuse their Update id)',
    );
    const status = await until('the run to start', async () => {
      const s = await supervisorStatus(stack.client, 'storm');
      return s.incident?.run ? s : null;
    });
    assert.equal(status.incident?.evidenceCount, 200);
    assert.equal(new Set(status.incident?.evidence.map((e) => e.id)).size, 200, 'every report recorded once');
    const runId = status.incident.run!.workflowId;
    // The run records why it started: the trigger and the incident's evidence.
    const run = await until(
      'the run to await approval',
      async () => {
        const s = await runStatus(stack.client, runId);
        return s.stage === 'approval' ? s : null;
      },
      240_000,
    );
    assert.equal(run.trigger.kind, 'drift');
    assert.equal(run.trigger.incident?.id, status.incident.id);
    assert.equal(run.trigger.incident?.supervisor, workflowIds.supervisor('storm'));
    assert.deepEqual(await runsOf('storm'), [runId], 'exactly one retraining run');

    await decideRun(stack.client, runId, 'rejected', 'test', 'storm test');
    const cooling = await until('the cooldown', async () => {
      const s = await supervisorStatus(stack.client, 'storm');
      return s.phase === 'cooling-down' ? s : null;
    });
    assert.equal(cooling.incident?.run?.outcome, 'rejected');
    // Awaited as its child: no activity held a slot while the run waited for approval; its end notice was ignored.
    const seen = await until("the run's end notice", async () => {
      const h = await historyOf(workflowIds.supervisor('storm'));
      return h.signals.includes('runFinished') ? h : null;
    });
    assert.ok(!seen.activities.includes('awaitRetrainingRun'), seen.activities.join(', '));
    assert.ok(!seen.activities.includes('runOutcome'), 'nothing to confirm for its own child');
    assert.equal(seen.childEnds, 1);
    const during = await reportDrift(stack.client, driftAlert('storm', 'storm-late'), queue());
    assert.equal(during.action, 'attached', 'a report during the cooldown joins the incident');
    await until(
      'the cooldown to end',
      async () => (await supervisorStatus(stack.client, 'storm')).phase === 'watching',
      30_000,
    );
    const next = await reportDrift(stack.client, driftAlert('storm', 'storm-next'), queue());
    assert.equal(next.action, 'started');
    assert.equal(next.incidentId, 'incident-0002');
    const second = await until(
      'the second run',
      async () => (await supervisorStatus(stack.client, 'storm')).incident?.run?.workflowId,
    );
    await stack.client.workflow.getHandle(second).terminate('test done');
  });

  it('persistence needs consecutive drifted windows; pause stops runs; manual retrain while paused only when allowed', async () => {
    // No data under the prefix: a run cannot start, which the incident records.
    await register('steady', { data: { prefix: 'nothing-here/' }, cooldown: '1h' }, { drift: { persistence: 2 } });
    assert.equal(
      (await reportDrift(stack.client, driftAlert('steady', 's1'), queue())).action,
      'recorded',
      '1 of 2 windows',
    );
    assert.equal((await reportDrift(stack.client, driftAlert('steady', 's2', false), queue())).action, 'recorded');
    assert.equal(
      (await reportDrift(stack.client, driftAlert('steady', 's3'), queue())).action,
      'recorded',
      'a clean window reset the count',
    );
    await pauseSupervisor(stack.client, 'steady', 'ops', 'maintenance');
    assert.equal((await reportDrift(stack.client, driftAlert('steady', 's4'), queue())).action, 'paused');
    const manual = await requestRetrain(stack.client, 'steady', { requestedBy: 'ana', reason: 'new labels' }, queue());
    assert.equal(manual.action, 'paused');
    assert.match(manual.message, /manualWhilePaused is false/);
    await resumeSupervisor(stack.client, 'steady', 'ops');
    const ack = await reportDrift(stack.client, driftAlert('steady', 's5'), queue());
    assert.equal(ack.action, 'started', 'third drifted window in a row');
    const s = await until('the failed start', async () => {
      const st = await supervisorStatus(stack.client, 'steady');
      return st.incident?.error ? st : null;
    });
    assert.match(s.incident!.error!, /no data files under .*nothing-here/);
    assert.equal(s.phase, 'cooling-down');
    assert.equal(
      (await reportDrift(stack.client, driftAlert('steady', 's6'), queue())).action,
      'attached',
      'later reports do not each retry',
    );
    assert.deepEqual(await runsOf('steady'), []);
    await recordHistory(stack.client, 'supervisor-persistence-pause', workflowIds.supervisor('steady'));

    await register('override', { cooldown: '1h', manualWhilePaused: true });
    assert.equal(
      (await reportDrift(stack.client, driftAlert('override', 'clean', false), queue())).action,
      'recorded',
      'starts the supervisor',
    );
    await pauseSupervisor(stack.client, 'override', 'ops');
    const run = await manualRun('override', 'urgent fix');
    const r = await until('the run to reach validation', async () => {
      const st = await runStatus(stack.client, run);
      return st.trigger.kind === 'manual' && st.trigger.requestedBy === 'ana' ? st : null;
    });
    assert.equal(r.trigger.reason, 'urgent fix');
    await stack.client.workflow.getHandle(run).terminate('test done');
    const closed = await until('the supervisor to notice the terminated run', async () => {
      const st = await supervisorStatus(stack.client, 'override');
      return st.incident?.run?.finishedAt ? st : null;
    });
    assert.equal(closed.incident?.run?.outcome, 'terminated');
    const seen = await historyOf(workflowIds.supervisor('override'));
    assert.equal(seen.childEnds, 1, 'learnt from the child itself');
    assert.ok(!seen.activities.includes('awaitRetrainingRun') && !seen.activities.includes('runOutcome'));
  });

  it('continues as new with a low history limit without killing the run in flight', async () => {
    await register('longlived', { data: { prefix: 'data/' }, cooldown: '1h' });
    const handle = await stack.client.workflow.start<typeof continuousTraining>('continuousTraining', {
      workflowId: workflowIds.supervisor('longlived'),
      taskQueue: tenant.config.taskQueue,
      args: [{ modelId: 'longlived', historyLimit: 60, runPollSeconds: 1 }],
    });
    const firstRun = handle.firstExecutionRunId;
    assert.equal((await reportDrift(stack.client, driftAlert('longlived', 'l0'), queue())).action, 'started');
    const runId = await until(
      'the run to start',
      async () => (await supervisorStatus(stack.client, 'longlived')).incident?.run?.workflowId,
    );
    for (let i = 1; i <= 40; i++) await reportDrift(stack.client, driftAlert('longlived', `l${i}`), queue());
    const after: SupervisorStatus = await until('continue-as-new', async () => {
      const s = await supervisorStatus(stack.client, 'longlived');
      return s.generation >= 1 ? s : null;
    });
    const desc = await stack.client.workflow.getHandle(workflowIds.supervisor('longlived')).describe();
    assert.notEqual(desc.runId, firstRun, 'a new run of the supervisor');
    assert.equal(after.incident?.evidenceCount, 41, 'state carried over');
    assert.equal(
      (await stack.client.workflow.getHandle(runId).describe()).status.name,
      'RUNNING',
      'the retraining run survived',
    );
    await until(
      'the run to await approval',
      async () => (await runStatus(stack.client, runId)).stage === 'approval',
      240_000,
    );
    // A notice is only a nudge: one that says the run ended while it still runs changes nothing.
    const supervisor = stack.client.workflow.getHandle(workflowIds.supervisor('longlived'));
    const checks = async () =>
      (await generationsOf(supervisor.workflowId, firstRun))
        .flatMap((g) => g.activities)
        .filter((a) => a === 'runOutcome').length;
    const before = await checks();
    await supervisor.signal(runFinishedSignal, { workflowId: runId });
    await until('the spoofed notice to be checked', async () => {
      const gens = await generationsOf(supervisor.workflowId, firstRun);
      return (await checks()) > before && gens.at(-1)!.pending === 0;
    });
    const unchanged = await supervisorStatus(stack.client, 'longlived');
    assert.equal(unchanged.incident?.run?.finishedAt, null, 'the run is still in flight');
    assert.equal(unchanged.phase, 'retraining');
    await decideRun(stack.client, runId, 'rejected', 'test', 'done');
    const finished = await until('the new generation to see the run finish', async () => {
      const s = await supervisorStatus(stack.client, 'longlived');
      return s.incident?.run?.finishedAt ? s : null;
    });
    assert.equal(finished.incident?.run?.outcome, 'rejected');
    assert.equal(finished.phase, 'cooling-down');
    // Told by the run (the sparse check is 10 minutes away) and confirmed by short activities; nothing polled.
    const gens = await generationsOf(supervisor.workflowId, firstRun);
    assert.ok(gens.length >= 2);
    assert.ok(gens.every((g) => !g.activities.includes('awaitRetrainingRun')));
    assert.ok(
      gens.every((g) => g.childEnds === 0),
      'no generation awaited the run as its child after the first',
    );
    const told = gens.filter((g) => g.signals.includes('runFinished'));
    assert.equal(told.flatMap((g) => g.signals).filter((n) => n === 'runFinished').length, 2, 'spoofed, then real');
    await recordHistory(stack.client, 'supervisor-completion-notice', supervisor.workflowId, firstRun);
    await recordHistory(
      stack.client,
      'supervisor-completion-notice-inherited',
      supervisor.workflowId,
      told.at(-1)!.runId,
    );
  });

  it('a run inherited across continue-as-new that never tells (terminated) is found by the sparse check', async () => {
    await register('inherited', { cooldown: '1h' });
    const handle = await stack.client.workflow.start<typeof continuousTraining>('continuousTraining', {
      workflowId: workflowIds.supervisor('inherited'),
      taskQueue: tenant.config.taskQueue,
      args: [{ modelId: 'inherited', historyLimit: 60, runCheckSeconds: 2 }],
    });
    const runId = await manualRun('inherited', 'inherit me');
    for (let i = 0; (await supervisorStatus(stack.client, 'inherited')).generation < 1; i++)
      await reportDrift(stack.client, driftAlert('inherited', `i${i}`, false), queue());
    assert.notEqual((await handle.describe()).runId, handle.firstExecutionRunId);
    await stack.client.workflow.getHandle(runId).terminate('test: a run that cannot tell its supervisor');
    const closed = await until('a later generation to find the terminated run', async () => {
      const st = await supervisorStatus(stack.client, 'inherited');
      return st.incident?.run?.finishedAt ? st : null;
    });
    assert.equal(closed.incident?.run?.outcome, 'terminated');
    assert.ok(closed.generation >= 1);
    const gens = await generationsOf(handle.workflowId, handle.firstExecutionRunId);
    const seen = {
      timers: gens.reduce((n, g) => n + g.timers, 0),
      activities: gens.slice(1).flatMap((g) => g.activities),
      signals: gens.flatMap((g) => g.signals),
    };
    assert.ok(!seen.signals.includes('runFinished') && !seen.activities.includes('awaitRetrainingRun'));
  });

  it('a run whose supervisor is gone still ends as it would: failing to tell it fails nothing', async () => {
    await register('orphan', { cooldown: '1h' });
    const runId = await manualRun('orphan', 'outlive your supervisor');
    await until(
      'the run to await approval',
      async () => (await runStatus(stack.client, runId)).stage === 'approval',
      240_000,
    );
    await stack.client.workflow.getHandle(workflowIds.supervisor('orphan')).terminate('test: the supervisor is gone');
    await decideRun(stack.client, runId, 'rejected', 'test', 'done');
    const run = stack.client.workflow.getHandle<typeof retrainingPipeline>(runId);
    assert.equal((await run.result()).outcome, 'rejected');
    const events = (await run.fetchHistory()).events ?? [];
    assert.equal(events.filter((e) => e.signalExternalWorkflowExecutionFailedEventAttributes).length, 1);
  });

  it("schedules that fire after their model's config was deleted fail each firing at once, naming the model", async () => {
    await register('deleted', { data: { prefix: 'data/' }, cooldown: '1h' });
    // Its supervisor runs, holding the config it loaded before the deletion.
    assert.equal((await reportDrift(stack.client, driftAlert('deleted', 'd0', false), queue())).action, 'recorded');
    await createSchedules(
      stack.client,
      { modelId: 'deleted', every: '1h', retrainEvery: '7d', paused: true },
      tenant.config.taskQueue,
    );
    await tenant.store.delete(keys.registeredConfig('deleted'));
    for (const scheduleId of [workflowIds.driftSchedule('deleted'), workflowIds.retrainSchedule('deleted')]) {
      const schedule = stack.client.schedule.getHandle(scheduleId);
      for (let firing = 1; firing <= 2; firing++) {
        await schedule.trigger();
        const action = await until(`firing ${firing} of ${scheduleId}`, async () => {
          const actions = (await schedule.describe()).info.recentActions;
          return actions.length >= firing ? actions[firing - 1]!.action : null;
        });
        const run = stack.client.workflow.getHandle(action.workflow.workflowId, action.workflow.firstExecutionRunId);
        await assert.rejects(run.result(), (err: Error) =>
          /model "deleted" has no registered configuration/.test(causeChain(err)),
        );
        const events = (await run.fetchHistory()).events ?? [];
        const attempts = events.flatMap((e) => e.activityTaskStartedEventAttributes?.attempt ?? []);
        assert.deepEqual(attempts, [1], 'loadModelConfig once: not retried');
      }
      assert.ok(await schedule.describe(), 'the schedule stays');
    }
    const supervisor = await supervisorStatus(stack.client, 'deleted');
    assert.equal(supervisor.incident, null, 'no retrain acknowledged that could not start');
    await deleteSchedules(stack.client, 'deleted');
  });

  it('refuses bad input: malformed reports, unknown model, wrong feature names', async () => {
    await assert.rejects(
      reportDrift(stack.client, { alertId: 'x', modelId: 'storm', datasetDrift: 'yes' as unknown as boolean }, queue()),
      (err: Error) => err instanceof InvalidInputError && /datasetDrift/.test(err.message),
    );
    // A client that skips our validation meets the workflow's validator.
    const raw = stack.client.workflow.getHandle(workflowIds.supervisor('storm'));
    // Its refusal is final: non-retryable (the Temporal CLI shows retryable: false), not a transient error.
    const final = (pattern: RegExp) => (err: Error) =>
      err instanceof WorkflowUpdateFailedError &&
      err.cause instanceof ApplicationFailure &&
      err.cause.nonRetryable &&
      pattern.test(err.cause.message);
    await assert.rejects(
      raw.executeUpdate(reportDriftUpdate, { args: [{ alertId: 'y', modelId: 'storm' } as never] }),
      final(/datasetDrift/),
    );
    await assert.rejects(
      raw.executeUpdate(reportDriftUpdate, { args: [driftAlert('other-model', 'o1')] }),
      final(/drift alert is for model "other-model"/),
    );
    // …and so it reads in the official Temporal CLI, which a user without our client reaches for.
    // Asynchronously: the workers run in this process and must answer while the CLI waits. The message is
    // encrypted: the CLI reads it through the codec server.
    const codec = await startTestCodecServer();
    const cli = await execFileAsync(tools.temporal, [
      ...codec.cliFlags,
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      workflowIds.supervisor('storm'),
      '--name',
      'reportDrift',
      '--input',
      JSON.stringify(driftAlert('other-model', 'o2')),
      '--address',
      stack.temporal.address,
      '--namespace',
      stack.temporal.namespace,
      '-o',
      'json',
    ]).then(
      () => assert.fail('the CLI should report a refusal'),
      (err: { stdout: string; stderr: string }) => err,
    );
    await codec.close();
    assert.match(
      cli.stderr,
      /drift alert is for model "other-model", this supervisor is storm's \(type: InvalidInput, retryable: false\)/,
    );
    await assert.rejects(
      reportDrift(stack.client, { ...driftAlert('storm', 'z'), driftedFeatures: ['altitude'] }, queue()),
      /unknown feature\(s\) "altitude"/,
    );
    await assert.rejects(
      reportDrift(stack.client, driftAlert('ghost', 'g1'), queue()),
      /model "ghost" has no registered configuration/,
    );
    await assert.rejects(
      requestRetrain(stack.client, 'storm', { requestedBy: '', reason: '' }, queue()),
      /requestedBy/,
    );
  });
});

describe('a storm against a server with its default Update limit', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({ maxInFlightUpdates: 10 }); // the server's own default
  });
  after(async () => stack?.stop());

  it("the client retries the server's backpressure: 60 reports (6× the limit), each recorded once, one incident", async (t) => {
    const tenant = stack.tenant();
    await tenant.store.ensureBucket();
    // No data under the prefix: the incident's run cannot start, so this test costs no training.
    await tenant.store.putJson(
      keys.registeredConfig('capped'),
      ModelConfig.parse({ ...testModelConfig(), modelId: 'capped', continuousTraining: { data: { prefix: 'none/' } } }),
    );
    await stack.startWorkers(tenant.config, { gpu: false });
    const started = Date.now();
    const acks = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        reportDrift(stack.client, driftAlert('capped', `c-${i}`), { taskQueue: tenant.config.taskQueue }),
      ),
    );
    t.diagnostic(
      `60 concurrent reports answered in ${((Date.now() - started) / 1000).toFixed(2)} s with at most 10 Updates in flight`,
    );
    assert.equal(acks.filter((a) => a.action === 'started').length, 1);
    assert.equal(acks.filter((a) => a.action === 'attached').length, 59);
    const s = await supervisorStatus(stack.client, 'capped');
    assert.equal(s.reportsReceived, 60, 'no report counted twice');
    assert.equal(s.incident?.evidenceCount, 60);
    assert.match(s.incident?.error ?? '', /no data files/);
  });
});
