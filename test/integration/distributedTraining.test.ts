// Data-parallel training through the whole pipeline on real servers: 2 ranks with torchrun on the local backend, and
// 2 ranks placed by Ray Train on a real local Ray cluster (a head and a second node, each a network namespace of its
// own: stack/rayCluster.ts). On Ray: a rank stopped with SIGSTOP is found within the heartbeat timeout and every rank
// is torn down; a cancelled run leaves no job and no trainer process; an unreachable cluster is a retried failure
// naming its address, a job Ray cannot place a clear failure at once; a node killed whole costs at most one
// checkpoint interval of steps and the model is registered once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { startRetraining } from '../../client';
import { stepsRedone } from '../../core/attempts';
import { keys } from '../../core/keys';
import { type ModelConfig, ModelConfig as ModelConfigSchema } from '../../core/modelConfig';
import type { RunStatus } from '../../core/runStatus';
import { isTerminal, RayJobs } from '../../adapters/rayJobs';
import { freePort } from '../../stack/processes';
import { tools } from '../../stack/paths';
import { type RayCluster, startRayCluster } from '../../stack/rayCluster';
import { statusQuery } from '../../workflows/definitions';
import { testModelConfig } from '../helpers/flights';
import { attemptRecords } from '../helpers/attempts';
import { alive, startWorkerProcess, trainerProcesses, trainingHeartbeat } from '../helpers/processes';
import { loggedLines, startTestStack, type TestStack } from '../helpers/stack';
import { flightsParquet, readFlightsSlice } from '../helpers/flights';
import { until } from '../helpers/until';

const HEARTBEAT_TIMEOUT_S = 10;
const CHECKPOINT_EVERY = 5;

/** The flights test model with `workers` ranks on `backend`; `stepDelayMs` slows each step so tests can act mid-way. */
function distributedConfig(backend: 'local' | 'ray', workers: number, stepDelayMs = 0, over: object = {}): ModelConfig {
  const base = testModelConfig({
    command: ['env', `CT_TRAINER_STEP_DELAY_MS=${stepDelayMs}`, 'python3', 'trainers/flight_delay/train.py'],
    hyperparameters: { epochs: stepDelayMs ? 4 : 2 }, // 4 epochs: 128 steps
  });
  return ModelConfigSchema.parse({
    ...base,
    trainer: {
      ...base.trainer,
      backend,
      workers,
      heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_S,
      checkpoint: { everySteps: CHECKPOINT_EVERY, everySeconds: 0 },
      ...over,
    },
  });
}

/** Trainer processes of a run whose environment says they are `RANK=<rank>`. */
function rankProcess(runId: string, rank: number): number | undefined {
  return trainerProcesses(runId)
    .map((p) => p.pid)
    .find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`RANK=${rank}`);
      } catch {
        return false;
      }
    });
}

describe('data-parallel training (torchrun locally, Ray Train on a Ray cluster)', () => {
  let stack: TestStack;
  let cluster: RayCluster;
  let jobs: RayJobs;

  before(async () => {
    stack = await startTestStack();
    // 2 CPUs a node: ranks spread over both nodes, and both fit on the head once the other node is lost.
    cluster = await startRayCluster({ dataDir: stack.dir, workers: 1, cpusPerNode: 2 });
    jobs = new RayJobs(cluster.dashboardUrl);
  });
  after(async () => {
    await cluster?.stop();
    await stack?.stop();
  });

  /** A tenant holding the first 20,000 flights, its workers training on `ray` (the Ray cluster) if given. */
  async function tenantWith(ray?: { address: string; python: string }) {
    const tenant = stack.tenant();
    if (ray) tenant.config.ray = ray;
    await tenant.store.ensureBucket();
    await tenant.store.put('data/jan.parquet', flightsParquet(await readFlightsSlice(0, 20_000)));
    await stack.startWorkers(tenant.config);
    return tenant;
  }
  const onCluster = () => ({ address: cluster.dashboardUrl, python: tools.python });
  type Tenant = Awaited<ReturnType<typeof tenantWith>>;

  async function start(tenant: Tenant, modelConfig: ModelConfig) {
    const handle = await startRetraining(
      stack.client,
      { modelId: 'flight-delay', dataset: { keys: ['data/jan.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
    return { handle, runId: (await handle.describe()).runId };
  }
  const finished = (handle: WorkflowHandle): Promise<RunStatus> =>
    handle.result().catch(async () => handle.query(statusQuery));
  const attempts = (tenant: Tenant, runId: string) => attemptRecords(tenant.store, 'flight-delay', runId);
  const jobsOf = async (runId: string) => (await jobs.list()).filter((j) => j.metadata?.['runId'] === runId);

  it('trains 2 ranks with torchrun on the local backend to a promoted version', async () => {
    const tenant = await tenantWith();
    const { handle, runId } = await start(tenant, distributedConfig('local', 2));
    const s = await finished(handle);
    assert.equal(s.outcome, 'promoted', s.error ?? '');
    const [only, ...more] = await attempts(tenant, runId);
    assert.equal(only?.outcome, 'succeeded');
    assert.deepEqual(more, []);
  });

  let rayTenant: Tenant;
  it('trains 2 ranks placed by Ray Train on two nodes to a promoted version', async () => {
    rayTenant = await tenantWith(onCluster());
    const { handle, runId } = await start(rayTenant, distributedConfig('ray', 2));
    const s = await finished(handle);
    assert.equal(s.outcome, 'promoted', s.error ?? '');
    const [job, ...others] = await jobsOf(runId);
    assert.equal(job?.status, 'SUCCEEDED');
    assert.deepEqual(others, [], 'one attempt, one job');
    const log = await jobs.logs(job.submission_id!);
    const ranks = new Set(
      log
        .split('\n')
        .filter((l) => l.startsWith('{"event":"progress"'))
        .map((l) => (JSON.parse(l) as { rank?: number }).rank),
    );
    assert.deepEqual([...ranks].sort(), [0, 1], 'both ranks reported progress');
    assert.match(log, /"event":"done"/);
  });

  it('tears every rank down when one is stopped (SIGSTOP) and trains on in the next attempt', async () => {
    const { handle, runId } = await start(rayTenant, distributedConfig('ray', 2, 100));
    await until('step 20', async () => ((await trainingHeartbeat(handle))?.step ?? 0) >= 20, 240_000);
    const [pid, other] = [rankProcess(runId, 1), rankProcess(runId, 0)];
    assert.ok(pid && other, 'both ranks found');
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    // Detection is the watchdog's verdict (its log line's time); tearing the job down comes after it.
    const stall = await until('the stall', async () => loggedLines(/trainer stalled/).find((l) => l.runId === runId));
    const detectedS = ((stall.time as number) - stoppedAt) / 1000;
    assert.ok(detectedS <= HEARTBEAT_TIMEOUT_S + 5, `stall detected ${detectedS}s after the stop`);
    await until('both ranks torn down', async () => !alive(pid) && !alive(other), 30_000);
    console.log(
      `stall detected ${detectedS} s after the stop, ranks gone ${(Date.now() - stoppedAt) / 1000} s after it`,
    );
    const s = await finished(handle);
    assert.equal(s.outcome, 'promoted', s.error ?? '');
    const [stalled, next] = await attempts(rayTenant, runId);
    assert.equal(stalled?.outcome, 'stalled');
    assert.equal(next?.outcome, 'succeeded');
    assert.deepEqual(trainerProcesses(runId), []);
  });

  it('cancelling the run leaves no Ray job running and no trainer process on any node', async () => {
    const { handle, runId } = await start(rayTenant, distributedConfig('ray', 2, 100));
    await until('step 10', async () => ((await trainingHeartbeat(handle))?.step ?? 0) >= 10, 240_000);
    assert.equal(trainerProcesses(runId).length, 3, 'the driver and two ranks');
    await handle.cancel();
    const s = await finished(handle);
    assert.equal(s.outcome, 'cancelled');
    const running = (await jobsOf(runId)).filter((j) => j.status === 'RUNNING' || j.status === 'PENDING');
    assert.deepEqual(running, []);
    await until('no trainer process left', async () => trainerProcesses(runId).length === 0, 10_000);
  });

  it('a Ray job the cluster cannot place fails at once, saying what it lacks', async () => {
    const { handle, runId } = await start(
      rayTenant,
      distributedConfig('ray', 2, 0, { ray: { resourcesPerWorker: { CPU: 16 }, placement: 'SPREAD' } }),
    );
    const s = await finished(handle);
    assert.equal(s.outcome, 'failed');
    assert.match(s.error ?? '', new RegExp(`Ray cluster at ${cluster.dashboardUrl} cannot place 2 workers`));
    assert.deepEqual(
      (await attempts(rayTenant, runId)).map((a) => a.outcome),
      ['backend-rejected'],
    );
    assert.deepEqual(await jobsOf(runId), [], 'nothing submitted');
  });

  it('an unreachable Ray cluster is a retried failure naming its address', async () => {
    const address = `http://127.0.0.1:${await freePort()}`;
    const tenant = await tenantWith({ address, python: tools.python });
    const { handle, runId } = await start(tenant, distributedConfig('ray', 2));
    const records = await until('two failed attempts', async () => {
      const found = await attempts(tenant, runId);
      return found.length >= 2 && found;
    });
    await handle.cancel();
    assert.equal((await finished(handle)).outcome, 'cancelled');
    for (const r of records.slice(0, 2)) {
      assert.equal(r.outcome, 'backend-unavailable');
      assert.match(r.message, new RegExp(`Ray cluster at ${address} unreachable: .*ECONNREFUSED`));
    }
  });

  it("a worker killed mid-training: the next attempt stops the lost attempt's Ray job before its own", async () => {
    const tenant = stack.tenant();
    await tenant.store.ensureBucket();
    await tenant.store.put('data/jan.parquet', flightsParquet(await readFlightsSlice(0, 20_000)));
    await stack.startWorkers(tenant.config, { gpu: false });
    const env = { CT_RAY_ADDRESS: cluster.dashboardUrl };
    const first = await startWorkerProcess('gpu', tenant.config, stack.dir, 'ray-gpu-a', env);
    // 300 ms a step: the lost attempt's job still trains when the next attempt starts (heartbeat timeout + backoff).
    const { handle, runId } = await start(tenant, distributedConfig('ray', 2, 300));
    await until('step 10', async () => ((await trainingHeartbeat(handle))?.step ?? 0) >= 10, 240_000);
    const [orphan] = await jobsOf(runId);
    first.child.kill('SIGKILL'); // its Ray job trains on, owned by nobody
    assert.equal(orphan?.status, 'RUNNING');
    const second = await startWorkerProcess('gpu', tenant.config, stack.dir, 'ray-gpu-b', env);
    try {
      // The next attempt (after the heartbeat timeout and a retry) trains in a job of its own; how such an attempt
      // goes on to a promoted model is the node-kill test's. Cancelled here once its ranks report progress.
      const next = await until(
        'the next attempt training',
        async () => {
          const job = (await jobsOf(runId)).find((j) => j.submission_id !== orphan.submission_id);
          return job && (await jobs.logs(job.submission_id!)).includes('{"event":"progress"') && job;
        },
        240_000,
      );
      await handle.cancel();
      assert.equal((await finished(handle)).outcome, 'cancelled');
      const byId = new Map((await jobsOf(runId)).map((j) => [j.submission_id, j]));
      const [lost, ended] = [byId.get(orphan.submission_id), byId.get(next.submission_id)];
      assert.equal(lost?.status, 'STOPPED', "the lost attempt's job was stopped");
      assert.ok(lost.end_time! <= next.start_time!, 'stopped before the next job started');
      assert.ok(ended && isTerminal(ended), `the next attempt's job ended: ${ended?.status}`);
      assert.equal(byId.size, 2, 'one job per attempt');
    } finally {
      await second.stop();
    }
    const [lostAttempt, cancelled] = await attempts(tenant, runId);
    assert.equal(lostAttempt?.outcome, 'lost');
    assert.equal(cancelled?.outcome, 'cancelled');
    assert.ok(cancelled.resumedFromStep > 0, "resumed from the lost attempt's checkpoint");
    await until('no trainer process left', async () => trainerProcesses(runId).length === 0, 10_000);
  });

  it('a node killed mid-training costs at most one checkpoint interval; the model is registered once', async () => {
    const cards = async () =>
      (await rayTenant.store.list(keys.versionsPrefix('flight-delay'))).filter((k) => k.endsWith('/card.json')).length;
    const cardsBefore = await cards();
    const { handle, runId } = await start(rayTenant, distributedConfig('ray', 2, 100));
    await until('step 25', async () => ((await trainingHeartbeat(handle))?.step ?? 0) >= 25, 240_000);
    cluster.killNode('node1');
    const s = await finished(handle);
    assert.equal(s.outcome, 'promoted', s.error ?? '');
    const records = await attempts(rayTenant, runId);
    const [lost, next] = records;
    assert.ok(lost && next && lost.outcome !== 'succeeded', JSON.stringify(records.map((r) => r.outcome)));
    assert.ok(next.resumedFromStep > 0, 'resumed from a checkpoint');
    const redone = stepsRedone(lost.lastStep, next.resumedFromStep);
    assert.ok(redone <= CHECKPOINT_EVERY, `${redone} steps redone`);
    assert.equal(records.at(-1)?.outcome, 'succeeded');
    assert.equal(await cards(), cardsBefore + 1, 'registered once');
  });
});
