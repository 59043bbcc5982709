// Training that survives anything: worker killed (-9) or shut down, trainer stopped (SIGSTOP), a corrupt
// checkpoint, cancellation, the object store killed. Real worker processes, real trainer processes, real Temporal
// and MinIO.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { startRetraining } from '../../client';
import { stepsRedone, TrainingHeartbeat } from '../../core/attempts';
import { keys } from '../../core/keys';
import type { TrainingResult } from '../../core/reports';
import { listVersions } from '../../adapters/registryStore';
import { attemptRecords } from '../helpers/attempts';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import {
  processesInGroup,
  startWorkerProcess,
  trainerProcesses,
  trainingHeartbeat,
  waitFor,
} from '../helpers/processes';
import { startTestStack, type TestStack } from '../helpers/stack';
import { payloadValue } from '../helpers/codec';

const EVERY_STEPS = 5;
/** ~70 steps (4 epochs) at ≥150 ms each: long enough to interrupt, short enough for CI. */
const slowConfig = (epochs = 4) => {
  const base = testModelConfig({
    command: ['env', 'CT_TRAINER_STEP_DELAY_MS=150', 'python3', 'trainers/flight_delay/train.py'],
    hyperparameters: { epochs },
  });
  return {
    ...base,
    trainer: {
      ...base.trainer,
      heartbeatTimeoutSeconds: 5,
      keepCheckpoints: 3,
      stopGraceSeconds: 10,
      checkpoint: { everySteps: EVERY_STEPS, everySeconds: 0 },
    },
  };
};

type Tenant = ReturnType<TestStack['tenant']>;

const attempts = (tenant: Tenant, runId: string) => attemptRecords(tenant.store, 'flight-delay', runId);

/** The outage tests: a trainer slow to start on a loaded machine must not pass for stalled. */
const outageConfig = (epochs = 4) => {
  const base = slowConfig(epochs);
  return { ...base, trainer: { ...base.trainer, heartbeatTimeoutSeconds: 20 } };
};

const stepOf = (key: string | null | undefined) => Number(/step-(\d+)\.pt$/.exec(key ?? '')?.[1] ?? -1);

function trainedOf(
  history: Awaited<ReturnType<ReturnType<TestStack['client']['workflow']['getHandle']>['fetchHistory']>>,
): TrainingResult {
  return history
    .events!.flatMap((e) => e.activityTaskCompletedEventAttributes?.result?.payloads ?? [])
    .map((p) => payloadValue(p))
    .find((r) => 'modelSha256' in r) as unknown as TrainingResult;
}

describe('training that survives anything', () => {
  let stack: TestStack;
  let inProc: Tenant; // control + GPU worker in this process
  let outProc: Tenant; // control worker here, GPU worker as separate processes
  const start = (tenant: Tenant, modelConfig = slowConfig()) =>
    startRetraining(
      stack.client,
      { modelId: 'flight-delay', dataset: { keys: ['data/jan.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );

  before(async () => {
    stack = await startTestStack();
    const data = flightsParquet(await readFlightsSlice(0, 20_000));
    inProc = stack.tenant();
    outProc = stack.tenant();
    for (const t of [inProc, outProc]) {
      await t.store.ensureBucket();
      await t.store.put('data/jan.parquet', data);
    }
    await stack.startWorkers(inProc.config);
    await stack.startWorkers(outProc.config, { gpu: false });
  });
  after(async () => stack?.stop());

  it('kill -9 of the GPU worker: another worker resumes from the last checkpoint, the model is registered once', async () => {
    const workerA = await startWorkerProcess('gpu', outProc.config, stack.dir, 'gpu-a');
    const handle = await start(outProc);
    const runId = (await handle.describe()).runId;
    const beat = await waitFor('step 12 with a checkpoint', async () => {
      const b = await trainingHeartbeat(handle);
      return b && b.step >= 12 && b.checkpointKey ? b : null;
    });
    workerA.child.kill('SIGKILL');
    // The orphaned trainer dies on its next write to the dead worker's pipe: nothing is left behind.
    await waitFor('the orphaned trainer to exit', async () => trainerProcesses(runId).length === 0, 30_000);
    const workerB = await startWorkerProcess('gpu', outProc.config, stack.dir, 'gpu-b');
    const result = await handle.result();
    await workerB.stop();
    assert.ok(result.outcome === 'promoted' || result.outcome === 'rejected-by-gate', result.outcome);
    const records = await attempts(outProc, runId);
    assert.deepEqual(
      records.map((r) => r.outcome),
      ['lost', 'succeeded'],
    );
    const redone = stepsRedone(records[0]!.lastStep, records[1]!.resumedFromStep);
    assert.ok(records[1]!.resumedFromStep > 0, 'resumed, not restarted');
    assert.ok(
      redone <= EVERY_STEPS,
      `re-did ${redone} steps (last heartbeat step ${beat.step}), at most one checkpoint interval`,
    );
    if (result.outcome === 'promoted') {
      const versions = await listVersions(outProc.store, 'flight-delay');
      assert.equal(versions.filter((v) => v === result.registered!.version).length, 1);
      assert.equal(
        ((await outProc.store.getJson(keys.runRegistration('flight-delay', runId))) as { version: number }).version,
        result.registered!.version,
      );
    }
  });

  it('SIGTERM to the GPU worker: the trainer checkpoints, the worker exits, the next worker loses no step', async () => {
    const workerA = await startWorkerProcess('gpu', outProc.config, stack.dir, 'gpu-c');
    const handle = await start(outProc);
    const runId = (await handle.describe()).runId;
    await waitFor('step 8', async () => ((await trainingHeartbeat(handle))?.step ?? 0) >= 8);
    const exited = new Promise<number | null>((resolve) => workerA.child.once('exit', (code) => resolve(code)));
    workerA.child.kill('SIGTERM');
    assert.equal(await exited, 0, 'the worker drained and exited cleanly');
    const beat = await trainingHeartbeat(handle);
    assert.match(beat?.checkpointKey ?? '', /step-\d+\.pt$/);
    const workerB = await startWorkerProcess('gpu', outProc.config, stack.dir, 'gpu-d');
    await handle.result();
    await workerB.stop();
    const records = await attempts(outProc, runId);
    assert.deepEqual(
      records.map((r) => r.outcome),
      ['preempted', 'succeeded'],
    );
    assert.equal(
      records[1]!.resumedFromStep,
      records[0]!.lastStep,
      'resumed exactly where the preempted attempt stopped',
    );
    assert.equal(records[0]!.deviceSecondsKind, 'cpu');
    assert.ok(records[0]!.deviceSeconds > 0);
  });

  it('SIGSTOP of the trainer: the stall is detected within the heartbeat timeout and a new attempt completes', async () => {
    const handle = await start(inProc);
    const runId = (await handle.describe()).runId;
    await waitFor('step 10', async () => ((await trainingHeartbeat(handle))?.step ?? 0) >= 10);
    const [stuck] = trainerProcesses(runId);
    assert.ok(stuck);
    const stoppedAt = Date.now();
    process.kill(stuck.pid, 'SIGSTOP');
    await waitFor('the stuck trainer to be killed', async () => processesInGroup(stuck.pgid).length === 0, 30_000);
    const detectedAfter = (Date.now() - stoppedAt) / 1000;
    assert.ok(detectedAfter < 5 + 3, `stall handled after ${detectedAfter}s (heartbeat timeout 5s)`);
    const result = await handle.result();
    assert.notEqual(result.outcome, 'failed');
    const records = await attempts(inProc, runId);
    assert.equal(records[0]!.outcome, 'stalled');
    assert.equal(records[records.length - 1]!.outcome, 'succeeded');
  });

  it('a corrupt newest checkpoint is skipped for the previous one, and the skip is recorded', async () => {
    const handle = await start(inProc);
    const runId = (await handle.describe()).runId;
    const prefix = keys.checkpoints('flight-delay', runId);
    await waitFor('two stored checkpoints', async () => (await inProc.store.list(prefix)).length >= 2);
    const [trainer] = trainerProcesses(runId);
    process.kill(trainer!.pid, 'SIGSTOP'); // hold it still while we corrupt its newest checkpoint
    const stored = (await inProc.store.list(prefix)).sort().reverse();
    const newest = stored[0]!;
    const meta = (await inProc.store.metadata(newest))!;
    await inProc.store.put(newest, Buffer.from('not a checkpoint'), 'application/octet-stream', meta);
    process.kill(trainer!.pid, 'SIGKILL'); // a crash: the retry must resume
    const result = await handle.result();
    assert.notEqual(result.outcome, 'failed');
    const trained = trainedOf(await handle.fetchHistory());
    assert.equal(trained.skippedCheckpoints[0]?.key, newest);
    assert.match(trained.skippedCheckpoints[0].reason, /does not match/);
    assert.equal(trained.resumedFrom, stored[1]);
    const left = await inProc.store.list(prefix);
    assert.ok(left.length <= 3, `kept ${left.length} checkpoints, at most keepCheckpoints=3`);
  });

  it('cancelling the run during training leaves no process of the trainer group behind, launcher children included', async () => {
    // A launcher (like torchrun) that starts a helper process next to the trainer, in the same process group.
    const config = slowConfig();
    const launcher = [
      'bash',
      '-c',
      'sleep 600 & exec env CT_TRAINER_STEP_DELAY_MS=150 python3 trainers/flight_delay/train.py "$@"',
      'launcher',
    ];
    const handle = await startRetraining(
      stack.client,
      {
        modelId: 'flight-delay',
        dataset: { keys: ['data/jan.parquet'] },
        modelConfig: { ...config, trainer: { ...config.trainer, command: launcher } },
      },
      { taskQueue: inProc.config.taskQueue },
    );
    const runId = (await handle.describe()).runId;
    await waitFor('step 5', async () => ((await trainingHeartbeat(handle))?.step ?? 0) >= 5);
    const [trainer] = trainerProcesses(runId);
    assert.ok(trainer);
    assert.ok(processesInGroup(trainer.pgid).length >= 2, 'the launcher started a helper beside the trainer');
    await handle.cancel();
    const err = await handle.result().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(
      err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure,
      `${String(err)}: ${String((err as WorkflowFailedError).cause)} ${String((err as WorkflowFailedError).cause?.cause)}`,
    );
    assert.deepEqual(processesInGroup(trainer.pgid), [], 'the whole process group is gone when the run is cancelled');
    const records = await attempts(inProc, runId);
    assert.equal(records[0]!.outcome, 'cancelled');
  });

  it('the object store killed for several checkpoint intervals: training goes on, a crash after it is back redoes at most one interval', async () => {
    const config = outageConfig(8); // ~140 steps: the trainer is still running when the store comes back
    const handle = await start(inProc, config);
    const runId = (await handle.describe()).runId;
    await waitFor('step 10 with a stored checkpoint', async () => {
      const b = await trainingHeartbeat(handle);
      return b && b.step >= 10 && b.checkpointKey ? b : null;
    });
    const restartStore = await stack.killObjectStore();
    const downAt = Date.now();
    const killedAtStep = (await trainingHeartbeat(handle))!.step;
    const named = new Set<string | null>();
    const during = await waitFor(`${4 * EVERY_STEPS} steps trained with the store down`, async () => {
      const b = await trainingHeartbeat(handle);
      // An upload in flight at the kill may still land, and heartbeats reach the server up to a second late:
      // from 3 s after the kill, nothing can be stored, so the named checkpoint must not change.
      if (Date.now() - downAt > 3000) named.add(b?.checkpointKey ?? null);
      return b && b.step >= killedAtStep + 4 * EVERY_STEPS && named.size > 0 ? b : null;
    });
    const local = readdirSync(path.join(inProc.config.workDir, runId, 'attempt-1', 'checkpoints')).filter((f) =>
      /^step-\d+\.pt$/.test(f),
    );
    await restartStore();
    const downSeconds = (Date.now() - downAt) / 1000;
    assert.equal(during.attempt, 1, 'the outage did not stop the attempt');
    assert.ok(during.storeUnavailableSince, 'the heartbeat says since when the store is unreachable');
    assert.ok(
      (during.pendingCheckpoints ?? 0) >= 1 && during.pendingCheckpoints! <= config.trainer.maxPendingCheckpoints,
      `pending ${during.pendingCheckpoints}`,
    );
    assert.ok(
      local.length <= config.trainer.maxPendingCheckpoints + 1,
      `local checkpoints ${local.join(',')}: bounded by maxPendingCheckpoints`,
    );
    assert.equal(
      named.size,
      1,
      `while the store was down the heartbeat kept naming the last stored checkpoint: ${[...named].join(', ')}`,
    );

    // Back: the waiting checkpoints go up, then the trainer crashes.
    const caughtUp = await waitFor(
      'the local checkpoints uploaded',
      async () => {
        const b = await trainingHeartbeat(handle);
        return b && b.pendingCheckpoints === 0 && stepOf(b.checkpointKey) >= during.step - EVERY_STEPS ? b : null;
      },
      60_000,
    );
    assert.ok(
      await inProc.store.exists(caughtUp.checkpointKey!),
      'the heartbeat names only a checkpoint that is in S3',
    );
    const [trainer] = trainerProcesses(runId);
    assert.ok(trainer, 'the trainer is still running');
    process.kill(trainer.pid, 'SIGKILL');
    const result = await handle.result();
    assert.ok(result.outcome === 'promoted' || result.outcome === 'rejected-by-gate', result.outcome);

    const records = await attempts(inProc, runId);
    assert.deepEqual(
      records.map((r) => [r.attempt, r.outcome, r.reconstructed]),
      [
        [1, 'crashed', false],
        [2, 'succeeded', false],
      ],
    );
    assert.ok(records[0]!.samplesProcessed > 0 && records[0]!.lastStep >= caughtUp.step, JSON.stringify(records[0]));
    const redone = stepsRedone(records[0]!.lastStep, records[1]!.resumedFromStep);
    console.log(
      `object store down ${downSeconds.toFixed(1)} s while ${during.step - killedAtStep} steps (${((during.step - killedAtStep) / EVERY_STEPS).toFixed(1)} checkpoint intervals) trained;` +
        ` crash at step ${records[0]!.lastStep}, resumed from ${records[1]!.resumedFromStep}: ${redone} steps redone, checkpoint interval ${EVERY_STEPS}`,
    );
    assert.ok(redone <= EVERY_STEPS, `re-did ${redone} steps, at most one checkpoint interval (${EVERY_STEPS})`);
  });

  it('the object store killed across a crash and a retry: every attempt is recorded with its true outcome once the store is back', async () => {
    const handle = await start(inProc, outageConfig());
    const runId = (await handle.describe()).runId;
    await waitFor('step 10 with a stored checkpoint', async () => {
      const b = await trainingHeartbeat(handle);
      return b && b.step >= 10 && b.checkpointKey ? b : null;
    });
    const restartStore = await stack.killObjectStore();
    const [trainer] = trainerProcesses(runId);
    process.kill(trainer!.pid, 'SIGKILL'); // attempt 1 crashes and cannot write its record
    // Attempt 2 (after the 5 s retry backoff) cannot even stage its data; it carries attempt 1's record.
    const carried = await waitFor(
      'attempt 2 carrying the records the store did not take',
      async () => {
        const b = await trainingHeartbeat(handle);
        return b?.attempt === 2 ? TrainingHeartbeat.parse(b) : null;
      },
      90_000,
    );
    assert.deepEqual(
      carried.unrecorded.map((r) => [r.attempt, r.outcome]),
      [[1, 'crashed']],
    );
    await new Promise((r) => setTimeout(r, 2000));
    await restartStore();
    const result = await handle.result();
    assert.ok(result.outcome === 'promoted' || result.outcome === 'rejected-by-gate', result.outcome);

    const records = await attempts(inProc, runId);
    assert.deepEqual(
      records.map((r) => [r.attempt, r.outcome, r.reconstructed]),
      [
        [1, 'crashed', false],
        [2, 'store-unavailable', false],
        [3, 'succeeded', false],
      ],
    );
    assert.ok(records[0]!.samplesProcessed > 0 && records[0]!.lastStep >= 10, JSON.stringify(records[0]));
    assert.match(records[1]!.message, /unreachable/);
    assert.ok(records[2]!.resumedFromStep > 0, 'the last attempt resumed');
  });

  it('the object store killed as training finishes: the attempt waits for it and uploads the model instead of failing', async () => {
    const handle = await start(inProc, outageConfig());
    const runId = (await handle.describe()).runId;
    const late = await waitFor('the last checkpoint intervals', async () => {
      const b = await trainingHeartbeat(handle);
      return b?.totalSteps && b.step >= b.totalSteps - 2 * EVERY_STEPS ? b : null;
    });
    const restartStore = await stack.killObjectStore();
    await waitFor('the trainer to finish', async () => trainerProcesses(runId).length === 0, 60_000);
    await new Promise((r) => setTimeout(r, 3000)); // the finished model waits on local disk for the store
    const waiting = await trainingHeartbeat(handle);
    assert.equal(waiting?.attempt, 1, 'still the first attempt');
    await restartStore();
    const result = await handle.result();
    assert.ok(result.outcome === 'promoted' || result.outcome === 'rejected-by-gate', result.outcome);
    const records = await attempts(inProc, runId);
    assert.deepEqual(
      records.map((r) => [r.attempt, r.outcome]),
      [[1, 'succeeded']],
    );
    assert.equal(records[0]!.lastStep, late.totalSteps);
    assert.ok(records[0]!.samplesProcessed > 0);
    assert.equal(trainedOf(await handle.fetchHistory()).attempt, 1);
  });
});
