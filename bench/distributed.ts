// npm run bench:distributed — data-parallel training on a real local Ray cluster (a head and a second node, each a
// network namespace: stack/rayCluster.ts), through the whole pipeline, measured in one run:
//  1. throughput: the same flights training with 1 and with 2 Ray Train workers (the baseline: 1 worker), samples/s
//     from rank 0's progress events in the job's log;
//  2. a kill -9 of the second node at three points, with checkpoints (resume) vs with checkpointing off (the
//     baseline: from scratch): steps lost, read from the attempt records, and recovery seconds from the kill to
//     training progressing again in the next attempt.
import { startRetraining } from '../client';
import { stepsRedone } from '../core/attempts';
import { ModelConfig } from '../core/modelConfig';
import { RayJobs } from '../adapters/rayJobs';
import { tools } from '../stack/paths';
import { type RayCluster, startRayCluster } from '../stack/rayCluster';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../test/helpers/flights';
import { attemptRecords, nextAttemptProgressing } from '../test/helpers/attempts';
import { trainingHeartbeat, waitFor } from '../test/helpers/processes';
import { startTestStack, type TestStack } from '../test/helpers/stack';

const KILL_AT_STEPS = [25, 55, 85];
const CHECKPOINT_EVERY = 10;
const HEARTBEAT_TIMEOUT_S = 10;
const out = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function config(workers: number, o: { stepDelayMs?: number; epochs: number; checkpointing: boolean; rows: number }) {
  const base = testModelConfig({
    command: ['env', `CT_TRAINER_STEP_DELAY_MS=${o.stepDelayMs ?? 0}`, 'python3', 'trainers/flight_delay/train.py'],
    hyperparameters: { epochs: o.epochs },
  });
  return ModelConfig.parse({
    ...base,
    dataset: { ...base.dataset, sampleRows: o.rows },
    trainer: {
      ...base.trainer,
      backend: 'ray',
      workers,
      heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_S,
      checkpoint: { everySteps: o.checkpointing ? CHECKPOINT_EVERY : 0, everySeconds: 0 },
    },
  });
}

/** A cluster of a head and one node (2 CPUs each), and a tenant whose workers train on it. */
async function onFreshCluster(stack: TestStack, rows: number) {
  const cluster = await startRayCluster({ dataDir: stack.dir, workers: 1, cpusPerNode: 2 });
  const tenant = stack.tenant();
  tenant.config.ray = { address: cluster.dashboardUrl, python: tools.python };
  await tenant.store.ensureBucket();
  await tenant.store.put('data/jan.parquet', flightsParquet(await readFlightsSlice(0, rows)));
  await stack.startWorkers(tenant.config);
  return { cluster, tenant };
}

async function run(stack: TestStack, tenant: ReturnType<TestStack['tenant']>, modelConfig: ModelConfig) {
  const handle = await startRetraining(
    stack.client,
    { modelId: 'flight-delay', dataset: { keys: ['data/jan.parquet'] }, modelConfig },
    { taskQueue: tenant.config.taskQueue },
  );
  return { handle, runId: (await handle.describe()).runId };
}

/** Mean samples/s of rank 0's progress events, the first (warm-up) one left out. */
async function samplesPerSecond(cluster: RayCluster, runId: string): Promise<number> {
  const jobs = new RayJobs(cluster.dashboardUrl);
  const job = (await jobs.list()).find((j) => j.metadata?.['runId'] === runId && j.status === 'SUCCEEDED');
  if (!job?.submission_id) throw new Error(`no succeeded Ray job for run ${runId}`);
  const rates = (await jobs.logs(job.submission_id))
    .split('\n')
    .filter((l) => l.startsWith('{"event":"progress"'))
    .map((l) => JSON.parse(l) as { samplesPerSec: number; rank?: number })
    .filter((e) => (e.rank ?? 0) === 0)
    .map((e) => e.samplesPerSec)
    .slice(1);
  return rates.reduce((a, b) => a + b, 0) / rates.length;
}

async function throughput(stack: TestStack, workers: number): Promise<number> {
  const rows = 200_000;
  const { cluster, tenant } = await onFreshCluster(stack, rows);
  try {
    const { handle, runId } = await run(stack, tenant, config(workers, { epochs: 2, checkpointing: true, rows }));
    await handle.result();
    return await samplesPerSecond(cluster, runId);
  } finally {
    await cluster.stop();
  }
}

async function killNode(stack: TestStack, killAt: number, checkpointing: boolean) {
  const rows = 20_000;
  const { cluster, tenant } = await onFreshCluster(stack, rows);
  try {
    const modelConfig = config(2, { stepDelayMs: 100, epochs: 8, checkpointing, rows });
    const { handle, runId } = await run(stack, tenant, modelConfig);
    await waitFor(`step ${killAt}`, async () => ((await trainingHeartbeat(handle))?.step ?? 0) >= killAt, 300_000);
    const killedAt = Date.now();
    cluster.killNode('node1');
    await nextAttemptProgressing(handle);
    const recoverySeconds = (Date.now() - killedAt) / 1000;
    await handle.result();
    const [lost, next] = await attemptRecords(tenant.store, 'flight-delay', runId);
    return {
      reached: lost!.lastStep,
      outcome: lost!.outcome,
      resumedFrom: next!.resumedFromStep,
      lostSteps: stepsRedone(lost!.lastStep, next!.resumedFromStep),
      recoverySeconds,
    };
  } finally {
    await cluster.stop();
  }
}

async function main() {
  out('bench:distributed — flights model, Ray Train on a local Ray cluster (head + 1 node, 2 CPUs each, gloo)');
  const stack = await startTestStack();
  try {
    const one = await throughput(stack, 1);
    const two = await throughput(stack, 2);
    const scaling = two / one;
    out(`throughput (200,000 flights sampled, 2 epochs): 1 worker ${one.toFixed(0)} samples/s (baseline)`);
    out(
      `                                                 2 workers ${two.toFixed(0)} samples/s → scaling ${scaling.toFixed(2)}`,
    );

    type Trial = Awaited<ReturnType<typeof killNode>>;
    const resume: Trial[] = [];
    const scratch: Trial[] = [];
    for (const killAt of KILL_AT_STEPS) {
      resume.push(await killNode(stack, killAt, true));
      scratch.push(await killNode(stack, killAt, false));
    }
    out(
      `\nkill -9 of node1 (rank 1) at steps ${KILL_AT_STEPS.join(', ')}; 100 ms/step, checkpoints every ${CHECKPOINT_EVERY} steps, heartbeat timeout ${HEARTBEAT_TIMEOUT_S} s`,
    );
    out(
      'kill at   resume: reached → resumed from (lost)   scratch: reached → resumed from (lost)   recovery s   ended as',
    );
    KILL_AT_STEPS.forEach((k, i) => {
      const r = resume[i]!;
      const s = scratch[i]!;
      out(
        `  ${String(k).padEnd(7)} ${String(r.reached).padStart(4)} → ${String(r.resumedFrom).padStart(3)} (${r.lostSteps})                 ${String(s.reached).padStart(4)} → ${String(s.resumedFrom).padStart(3)} (${s.lostSteps})                   ${r.recoverySeconds.toFixed(1).padStart(6)}       ${r.outcome}`,
      );
    });
    const lostResume = resume.reduce((a, r) => a + r.lostSteps, 0);
    const lostScratch = scratch.reduce((a, r) => a + r.lostSteps, 0);
    const ratio = lostResume / lostScratch;
    const recovery = median(resume.map((r) => r.recoverySeconds));
    out(`steps lost: ${lostResume} with resume vs ${lostScratch} from scratch (baseline) → ratio ${ratio.toFixed(3)}`);
    out(
      `recovery (kill → progressing in the next attempt: failure detected, retry backoff 5 s, a new Ray job placed and started): median ${recovery.toFixed(1)} s`,
    );
    out(
      `RESULT workers=2 scaling=${scaling.toFixed(2)} lost_steps_ratio=${ratio.toFixed(3)} recovery_s=${recovery.toFixed(1)}`,
    );
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:distributed failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
