// Prometheus metrics of real worker processes, as `ct dev` runs them: the control and GPU workers each serve their
// own endpoint (CT_METRICS_PORT) with the SDK's temporal_* metrics and our ct_* ones. One run with a manual approval,
// one whose trainer is killed and which is then cancelled, then a drift check and a retrain request; both endpoints
// are scraped during and after, and the numbers must move.
// A worker whose metrics port is taken names the port and exits non-zero.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decideRun, requestRetrain, startRetraining } from '../../client';
import { keys, workflowIds } from '../../core/keys';
import { freePort } from '../../stack/processes';
import type { ManagedProcess } from '../../stack/processes';
import { projectRoot } from '../../stack/paths';
import type { DriftCheckResult } from '../../activities/driftActivities';
import type { driftCheck } from '../../workflows';
import { ctEnv } from '../helpers/ct';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { startWorkerProcess, trainerProcesses } from '../helpers/processes';
import { matching, scrape, type Sample, total } from '../helpers/prometheus';
import { startTestStack, testLogger, type TestStack } from '../helpers/stack';
import { until } from '../helpers/until';

const modelId = 'flight-delay';

describe('worker metrics (Prometheus)', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  let control: ManagedProcess;
  let gpu: ManagedProcess;
  let controlUrl: string;
  let gpuUrl: string;

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    await tenant.store.ensureBucket();
    await tenant.store.put('data/jan.parquet', flightsParquet(await readFlightsSlice(0, 20_000)));
    await tenant.store.putJson(keys.registeredConfig(modelId), testModelConfig({ approval: 'manual' }));
    const [controlPort, gpuPort] = [await freePort(), await freePort()];
    controlUrl = `http://127.0.0.1:${controlPort}/metrics`;
    gpuUrl = `http://127.0.0.1:${gpuPort}/metrics`;
    control = await startWorkerProcess('control', tenant.config, stack.dir, 'control-metrics', {
      CT_METRICS_PORT: String(controlPort),
    });
    gpu = await startWorkerProcess('gpu', tenant.config, stack.dir, 'gpu-metrics', {
      CT_METRICS_PORT: String(gpuPort),
    });
  });
  after(async () => {
    await Promise.all([control?.stop(), gpu?.stop()]);
    await stack?.stop();
  });

  it('both workers serve temporal_* and ct_* metrics that move during a run', async () => {
    const run = await startRetraining(
      stack.client,
      {
        modelId,
        dataset: { keys: ['data/jan.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'test', reason: 'metrics' },
      },
      { taskQueue: tenant.config.taskQueue },
    );
    // During training: the GPU worker's speed gauges are above 0 for the model (steps/s from the second event on).
    const speed = await until(
      'ct_training_samples_per_second and ct_training_steps_per_second > 0 on the GPU worker',
      async () => {
        const s = await scrape(gpuUrl);
        const gauge = (name: string) => matching(s, name, { model: modelId })[0]?.value ?? 0;
        const [samples, steps] = [gauge('ct_training_samples_per_second'), gauge('ct_training_steps_per_second')];
        return samples > 0 && steps > 0 ? { samples, steps } : null;
      },
      300_000,
    );
    // Waiting for people: requested, not yet ended.
    const waiting = await until(
      'ct_approvals_requested on the control worker',
      async () => {
        const s = await scrape(controlUrl);
        return total(s, 'ct_approvals_requested', { model: modelId }) === 1 ? s : null;
      },
      300_000,
    );
    assert.equal(total(waiting, 'ct_approvals_ended', { model: modelId }), 0, 'still waiting');
    assert.equal(total(waiting, 'ct_runs', { model: modelId }), 0, 'no run ended yet');
    const trainSeconds = total(waiting, 'ct_stage_duration_seconds_sum', { model: modelId, stage: 'train' });
    assert.ok(trainSeconds > 0, `train stage took ${trainSeconds} s`);
    assert.equal(total(waiting, 'ct_stage_duration_seconds_count', { model: modelId, stage: 'approval' }), 0);

    await decideRun(stack.client, run.workflowId, 'approved', 'alice', 'metrics test');
    const result = await run.result();
    assert.equal(result.outcome, 'promoted');

    // ct_runs is recorded in the run's last workflow task, temporal_workflow_completed once the SDK reports it done.
    const after = await until('ct_runs{outcome="promoted"} and temporal_workflow_completed', async () => {
      const s = await scrape(controlUrl);
      const ended = total(s, 'ct_runs', { model: modelId, outcome: 'promoted' }) === 1;
      return ended && total(s, 'temporal_workflow_completed') > 0 ? s : null;
    });
    assert.equal(total(after, 'ct_approvals_ended', { model: modelId, outcome: 'approved' }), 1);
    // One histogram observation per stage entered, as the run's own timings say.
    const stages = new Map<string, number>();
    for (const t of result.timings) stages.set(t.stage, (stages.get(t.stage) ?? 0) + 1);
    for (const [stage, count] of stages)
      assert.equal(
        total(after, 'ct_stage_duration_seconds_count', { model: modelId, stage }),
        count,
        `ct_stage_duration_seconds_count{stage="${stage}"}`,
      );
    assertSdkMetrics(after, 'control', 'temporal_workflow_completed');
    assert.ok(total(after, 'temporal_workflow_task_schedule_to_start_latency_count') > 0);

    const gpuAfter = await scrape(gpuUrl);
    assertSdkMetrics(gpuAfter, 'gpu', 'temporal_activity_execution_latency_count');
    assert.ok(total(gpuAfter, 'ct_checkpoint_upload_bytes', { model: modelId }) > 0, 'checkpoint bytes counted');
    assert.ok(total(gpuAfter, 'ct_checkpoint_upload_seconds_count', { model: modelId }) > 0);
    assert.equal(
      total(gpuAfter, 'ct_training_samples_per_second', { model: modelId }),
      0,
      'the speed gauge drops to 0 once the attempt ended',
    );
    assert.equal(total(gpuAfter, 'ct_scrap_seconds'), 0, 'an attempt that succeeded scraps nothing');
    testLogger.warn(
      {
        ...speed,
        trainSeconds,
        checkpoints: total(gpuAfter, 'ct_checkpoint_upload_seconds_count', { model: modelId }),
        checkpointBytes: total(gpuAfter, 'ct_checkpoint_upload_bytes', { model: modelId }),
        sdkSamples: { control: after.filter((x) => x.name.startsWith('temporal_')).length },
      },
      'metrics of one run',
    );
  });

  it('a crashed attempt counts its scrap live; a run cancelled in training counts as cancelled', async () => {
    const run = await startRetraining(
      stack.client,
      {
        modelId,
        dataset: { keys: ['data/jan.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'test', reason: 'crash' },
      },
      { taskQueue: tenant.config.taskQueue },
    );
    const { runId } = await run.describe();
    await until('the trainer training (samples/s > 0)', async () =>
      matching(await scrape(gpuUrl), 'ct_training_samples_per_second', { model: modelId }).some((x) => x.value > 0),
    );
    const [trainer] = trainerProcesses(runId);
    process.kill(trainer!.pid, 'SIGKILL');
    const crashed = await until('ct_scrap_seconds{cause="crashed"} on the GPU worker', async () => {
      const seconds = total(await scrape(gpuUrl), 'ct_scrap_seconds', { model: modelId, cause: 'crashed' });
      return seconds > 0 ? seconds : null;
    });
    await run.cancel();
    await assert.rejects(run.result());
    assert.equal((await run.describe()).status.name, 'CANCELLED', 'the run ended as cancelled');
    await until('ct_runs{outcome="cancelled"} on the control worker', async () =>
      total(await scrape(controlUrl), 'ct_runs', { model: modelId, outcome: 'cancelled' }) === 1 ? true : null,
    );
    testLogger.warn({ crashedScrapSeconds: crashed }, 'scrap of the crashed attempt');
  });

  it('a drift check sets the per-feature and dataset gauges; the supervisor its open incident', async () => {
    const result = (await stack.client.workflow.execute<typeof driftCheck>('driftCheck', {
      workflowId: workflowIds.driftCheck(modelId, 'metrics'),
      taskQueue: tenant.config.taskQueue,
      args: [{ modelId, windowKeys: ['data/jan.parquet'] }],
    })) as DriftCheckResult;
    assert.equal(result.status, 'checked');
    const s = await until('ct_dataset_drift on the control worker', async () => {
      const samples = await scrape(controlUrl);
      return matching(samples, 'ct_dataset_drift', { model: modelId }).length ? samples : null;
    });
    assert.equal(total(s, 'ct_dataset_drift', { model: modelId }), result.report!.datasetDrift ? 1 : 0);
    const features = matching(s, 'ct_drift_statistic', { model: modelId });
    assert.equal(features.length, testModelConfig().features.length, 'one statistic per feature');
    const drifted = matching(s, 'ct_feature_drifted', { model: modelId }).filter((f) => f.value === 1);
    assert.deepEqual(drifted.map((f) => f.labels.feature).sort(), [...result.report!.driftedFeatures].sort());

    // The drift report reached the supervisor; a retrain request opens an incident.
    await until('ct_open_incidents 0', async () =>
      matching(await scrape(controlUrl), 'ct_open_incidents', { model: modelId }).some((x) => x.value === 0),
    );
    await requestRetrain(
      stack.client,
      modelId,
      { requestedBy: 'test', reason: 'metrics', datasetKeys: ['data/jan.parquet'] },
      { taskQueue: tenant.config.taskQueue },
    );
    await until('ct_open_incidents 1', async () =>
      matching(await scrape(controlUrl), 'ct_open_incidents', { model: modelId }).some((x) => x.value === 1),
    );
  });

  it('a worker whose metrics port is in use names the port and exits non-zero', async () => {
    const holder = net.createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as net.AddressInfo).port)),
    );
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'workers', 'control.ts')], {
        env: {
          ...ctEnv(tenant.config),
          CT_TEMPORAL_NAMESPACE: tenant.config.temporal.namespace,
          CT_METRICS_PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.notEqual(code, 0);
      assert.match(stderr, new RegExp(`metrics port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      holder.close();
    }
  });
});

/** The SDK's own metrics: present, tagged with this worker's task queue, and moved by the run. */
function assertSdkMetrics(samples: Sample[], kind: 'control' | 'gpu', name: string): void {
  const sdk = samples.filter((s) => s.name.startsWith('temporal_'));
  assert.ok(sdk.length > 10, `${kind} worker serves temporal_* metrics (${sdk.length} samples)`);
  assert.ok(total(samples, name) > 0, `${kind}: ${name} > 0`);
}
