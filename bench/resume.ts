// npm run bench:resume — what resumable training buys, measured in one run against real servers:
//  1. steps lost to a kill -9 of the GPU worker, resuming from S3 checkpoints vs the same kill with
//     checkpointing off (the baseline: restart from scratch), both read from the attempt records;
//  2. recovery latency: kill → training progressing again on a replacement worker;
//  3. checkpoint upload throughput: our multipart stream vs one plain PutObject of the same bytes.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startRetraining } from '../client';
import { stepsRedone } from '../core/attempts';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../test/helpers/flights';
import { attemptRecords, nextAttemptProgressing } from '../test/helpers/attempts';
import { startWorkerProcess, trainingHeartbeat, waitFor } from '../test/helpers/processes';
import { startTestStack, type TestStack } from '../test/helpers/stack';

const KILL_AT_STEPS = [25, 55, 85];
const CHECKPOINT_EVERY = 10;
const UPLOAD_MB = 256;
const UPLOAD_REPEATS = 3;
const out = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function killAndResume(
  stack: TestStack,
  tenant: ReturnType<TestStack['tenant']>,
  killAt: number,
  checkpointing: boolean,
  n: number,
) {
  const base = testModelConfig({
    command: ['env', 'CT_TRAINER_STEP_DELAY_MS=100', 'python3', 'trainers/flight_delay/train.py'],
    hyperparameters: { epochs: 8 },
  });
  const modelConfig = {
    ...base,
    trainer: {
      ...base.trainer,
      heartbeatTimeoutSeconds: 5,
      checkpoint: { everySteps: checkpointing ? CHECKPOINT_EVERY : 0, everySeconds: 0 },
    },
  };
  const workerA = await startWorkerProcess('gpu', tenant.config, stack.dir, `bench-a-${n}`);
  const handle = await startRetraining(
    stack.client,
    { modelId: 'flight-delay', dataset: { keys: ['data/jan.parquet'] }, modelConfig },
    { taskQueue: tenant.config.taskQueue },
  );
  const runId = (await handle.describe()).runId;
  await waitFor(`step ${killAt}`, async () => ((await trainingHeartbeat(handle))?.step ?? 0) >= killAt, 300_000);
  const killedAt = Date.now();
  workerA.child.kill('SIGKILL');
  const workerB = await startWorkerProcess('gpu', tenant.config, stack.dir, `bench-b-${n}`);
  await nextAttemptProgressing(handle);
  const recoverySeconds = (Date.now() - killedAt) / 1000;
  await handle.result();
  await workerB.stop();
  const records = await attemptRecords(tenant.store, 'flight-delay', runId);
  const lost = records[0]!;
  const next = records[1]!;
  return {
    reached: lost.lastStep,
    resumedFrom: next.resumedFromStep,
    lostSteps: stepsRedone(lost.lastStep, next.resumedFromStep),
    recoverySeconds,
  };
}

async function uploadThroughput(stack: TestStack) {
  const tenant = stack.tenant();
  await tenant.store.ensureBucket();
  const file = path.join(stack.dir, 'checkpoint.bin');
  const bytes = randomBytes(UPLOAD_MB * 1024 * 1024);
  writeFileSync(file, bytes);
  const multipart: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < UPLOAD_REPEATS; i++) {
    let t = performance.now();
    await tenant.store.uploadFile(`bench/multipart-${i}.bin`, file, { sha256: 'bench' });
    multipart.push((performance.now() - t) / 1000);
    t = performance.now();
    await tenant.store.client.send(
      new PutObjectCommand({ Bucket: tenant.store.bucket, Key: `bench/plain-${i}.bin`, Body: bytes }),
    );
    plain.push((performance.now() - t) / 1000);
  }
  return { multipartS: median(multipart), plainS: median(plain) };
}

async function main() {
  out(
    `bench:resume — flights slice, trainer with 100 ms/step, checkpoints every ${CHECKPOINT_EVERY} steps, kill -9 of the GPU worker at steps ${KILL_AT_STEPS.join(', ')}`,
  );
  const stack = await startTestStack();
  try {
    const tenant = stack.tenant();
    await tenant.store.ensureBucket();
    await tenant.store.put('data/jan.parquet', flightsParquet(await readFlightsSlice(0, 20_000)));
    await stack.startWorkers(tenant.config, { gpu: false });

    type Trial = Awaited<ReturnType<typeof killAndResume>>;
    const resume: Trial[] = [];
    const scratch: Trial[] = [];
    let n = 0;
    for (const killAt of KILL_AT_STEPS) {
      resume.push(await killAndResume(stack, tenant, killAt, true, n++));
      scratch.push(await killAndResume(stack, tenant, killAt, false, n++));
    }
    out('(steps reached = the last heartbeat before the kill, at most ~1 s old; 136 steps in all)');
    out('\nkill at   resume: reached → resumed from (lost)   scratch: reached → resumed from (lost)   recovery s');
    KILL_AT_STEPS.forEach((k, i) => {
      const r = resume[i]!;
      const s = scratch[i]!;
      out(
        `  ${String(k).padEnd(7)} ${String(r.reached).padStart(4)} → ${String(r.resumedFrom).padStart(3)} (${r.lostSteps})                 ${String(s.reached).padStart(4)} → ${String(s.resumedFrom).padStart(3)} (${s.lostSteps})                   ${r.recoverySeconds.toFixed(1)}`,
      );
    });
    const lostResume = resume.reduce((a, r) => a + r.lostSteps, 0);
    const lostScratch = scratch.reduce((a, r) => a + r.lostSteps, 0);
    const ratio = lostResume / lostScratch;
    const recovery = median(resume.map((r) => r.recoverySeconds));
    out(
      `steps lost: ${lostResume} with resume vs ${lostScratch} restarting from scratch (baseline) → ratio ${ratio.toFixed(3)}`,
    );
    out(
      `recovery latency (kill → progressing on a replacement worker; heartbeat timeout 5 s + retry backoff 5 s): median ${recovery.toFixed(1)} s`,
    );

    const upload = await uploadThroughput(stack);
    const speedup = upload.plainS / upload.multipartS;
    out(
      `checkpoint upload of ${UPLOAD_MB} MiB to MinIO on loopback, median of ${UPLOAD_REPEATS}: multipart stream ${(UPLOAD_MB / upload.multipartS).toFixed(0)} MiB/s vs single PutObject (baseline) ${(UPLOAD_MB / upload.plainS).toFixed(0)} MiB/s → ${speedup.toFixed(2)}x`,
    );
    out(
      `RESULT lost_steps_ratio=${ratio.toFixed(3)} recovery_s=${recovery.toFixed(1)} upload_speedup=${speedup.toFixed(2)}`,
    );
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:resume failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
