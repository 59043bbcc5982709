// npm run bench:preflight — what preflight saves on a broken trainer config (`epochs: -1` with no trainer rules, so
// only the trainer itself can reject it). Each run is started as a user starts one, `ct retrain --config … --wait
// --json` in its own process, and timed from that command's start to its exit with the failure. Baseline, in the
// same run: the same config with preflight off, which fails only once the trainer starts on the GPU worker.
// Two conditions: the GPU worker's one slot free, and the slot held by another model's training (as it is on a
// busy fleet), where the run without preflight queues behind it before it can fail.
//   RESULT failure_speedup_busy=<without ÷ with> failure_speedup_idle=<…> gpu_slot_s_without=<s> gpu_slot_s_with=<s>
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startRetraining } from '../client';
import { AttemptRecord } from '../core/attempts';
import { keys } from '../core/keys';
import { ModelConfig } from '../core/modelConfig';
import { RunStatus } from '../core/runStatus';
import { ctEnv, runCt } from '../test/helpers/ct';
import { testModelConfig } from '../test/helpers/flights';
import { trainingHeartbeat, waitFor } from '../test/helpers/processes';
import { flightsTenant, startTestStack, type TestStack } from '../test/helpers/stack';

const out = (s: string) => process.stdout.write(`${s}\n`);
type Tenant = ReturnType<TestStack['tenant']>;

/** The broken config: the flights trainer asked for -1 epochs, with no trainer rules to refuse it at the start. */
function brokenConfig(modelId: string, preflight: boolean): ModelConfig {
  const base = testModelConfig({ preflight });
  return ModelConfig.parse({
    ...base,
    modelId,
    trainer: { ...base.trainer, hyperparameterRules: undefined },
    hyperparameters: { epochs: -1 },
  });
}

interface Failure {
  seconds: number;
  stage: string;
  /** Seconds the run's training attempts held a GPU worker slot, and the device-seconds they spent there. */
  slotSeconds: number;
  deviceSeconds: number;
}

async function failWithCt(stack: TestStack, tenant: Tenant, modelId: string, preflight: boolean): Promise<Failure> {
  const file = path.join(stack.dir, `${modelId}.json`);
  writeFileSync(file, JSON.stringify(brokenConfig(modelId, preflight)));
  const started = performance.now();
  const ct = await runCt(
    ['retrain', modelId, '--data', 'data/jan.parquet', '--config', file, '--wait', '--json'],
    ctEnv(tenant.config),
  );
  const seconds = (performance.now() - started) / 1000;
  if (ct.status !== 1) throw new Error(`ct retrain exited ${ct.status}, not 1 (failed): ${ct.stderr || ct.stdout}`);
  const status = RunStatus.parse(JSON.parse(ct.stdout));
  if (status.outcome !== 'failed') throw new Error(`the broken config ended ${status.outcome}`);
  const attempts = await Promise.all(
    (await tenant.store.list(keys.attempts(modelId, status.runId))).map(async (k) =>
      AttemptRecord.parse(await tenant.store.getJson(k)),
    ),
  );
  return {
    seconds,
    stage: status.timings.at(-1)?.stage ?? status.stage,
    slotSeconds: attempts.reduce((s, a) => s + a.wallSeconds, 0),
    deviceSeconds: attempts.reduce((s, a) => s + a.deviceSeconds, 0),
  };
}

/** Another model's training holding the GPU worker's one slot for about `seconds` more. */
async function occupySlot(stack: TestStack, tenant: Tenant, modelId: string, seconds: number) {
  const base = testModelConfig({
    command: [
      'env',
      `CT_TRAINER_STEP_DELAY_MS=${Math.round((seconds * 1000) / 136)}`,
      'python3',
      'trainers/flight_delay/train.py',
    ],
    hyperparameters: { epochs: 8 },
  });
  const handle = await startRetraining(
    stack.client,
    { modelId, dataset: { keys: ['data/jan.parquet'] }, modelConfig: { ...base, modelId } },
    { taskQueue: tenant.config.taskQueue },
  );
  await waitFor('the occupying run training', async () => ((await trainingHeartbeat(handle))?.step ?? 0) >= 1, 300_000);
  return handle;
}

async function pair(stack: TestStack, tenant: Tenant, id: string, label: string, busyFor: number) {
  /** One broken run, with another model's training holding the GPU slot meanwhile when `busyFor` > 0. */
  const measure = async (preflight: boolean) => {
    const occupant = busyFor > 0 ? await occupySlot(stack, tenant, `busy-${id}-${preflight}`, busyFor) : null;
    const failure = await failWithCt(stack, tenant, `broken-${id}-${preflight}`, preflight);
    if (occupant) await occupant.result();
    return failure;
  };
  const runs = { without: await measure(false), with: await measure(true) };
  const row = (name: string, f: Failure) =>
    out(
      `  ${name.padEnd(18)} failed at ${f.stage.padEnd(9)} after ${f.seconds.toFixed(1).padStart(5)} s; GPU worker slot held ${f.slotSeconds.toFixed(1)} s (${f.deviceSeconds.toFixed(1)} device-s)`,
    );
  out(`\n${label}:`);
  row('without preflight', runs.without);
  row('with preflight', runs.with);
  const speedup = runs.without.seconds / runs.with.seconds;
  out(`  → the failure comes ${speedup.toFixed(2)}x sooner with preflight`);
  return { ...runs, speedup };
}

async function main() {
  out('bench:preflight — `ct retrain --wait` with a broken trainer config (epochs -1), flights Jan (20,000 rows)');
  out('(this machine has no GPU: the GPU worker trains on CPU with one slot; device-s are then trainer CPU-seconds)');
  const stack = await startTestStack();
  try {
    const tenant = await flightsTenant(stack);
    const idle = await pair(stack, tenant, 'idle', 'GPU slot free', 0);
    const busy = await pair(stack, tenant, 'busy', 'GPU slot busy (another training, ~40 s)', 40);
    const slotWithout = idle.without.slotSeconds + busy.without.slotSeconds;
    const slotWith = idle.with.slotSeconds + busy.with.slotSeconds;
    out(
      `\nGPU worker slot-seconds on the failures: ${slotWithout.toFixed(1)} without preflight (baseline), ${slotWith.toFixed(1)} with`,
    );
    out(
      `RESULT failure_speedup_busy=${busy.speedup.toFixed(2)} failure_speedup_idle=${idle.speedup.toFixed(2)} gpu_slot_s_without=${slotWithout.toFixed(1)} gpu_slot_s_with=${slotWith.toFixed(1)}`,
    );
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:preflight failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
