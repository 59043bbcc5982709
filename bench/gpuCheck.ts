// The GPU check (bench/gpu-check.sh runs it): the reference model (trainers/flight_delay, models/flight-delay.yaml)
// trained on CUDA through the real training activity — trainModel under the SDK's MockActivityEnvironment, on a real
// MinIO, running the real trainer subprocess — then the same steps on CPU, then a CUDA run stopped the way a worker
// shutdown stops it and retried with its last heartbeat, as Temporal retries it. Prints the RESULT line last.
// CT_GPU_CHECK_DEVICE=cpu runs every step on CPU, to test this script on a machine without a GPU: the GPU
// assertions then print "skipped", and the RESULT says gpu=none.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { createDataActivities } from '../activities/dataActivities';
import { FailureType } from '../activities/failures';
import { createTrainingActivities } from '../activities/trainActivity';
import { GpuPool } from '../adapters/gpuPool';
import { createS3Client, ObjectStore } from '../adapters/objectStore';
import { loadModelConfigFile } from '../cli/models';
import { AppConfig } from '../core/appConfig';
import type { TrainingHeartbeat } from '../core/attempts';
import { keys } from '../core/keys';
import { ModelConfig } from '../core/modelConfig';
import type { PreparedData, TrainingResult } from '../core/reports';
import { minioS3, startMinio } from '../stack/minio';
import { projectRoot } from '../stack/paths';
import { flightsParquet, readFlightsSlice } from '../test/helpers/flights';
import { discoverGpus } from '../workers/gpuSlots';

const DRY_RUN = process.env.CT_GPU_CHECK_DEVICE === 'cpu';
const ROWS = 500_000; // the first flights of the data: January 2001, 70% of them the train split
// Of 171 steps (batch 2048): ~20 s of step loop on an H100, so that GPU stats (sampled every 10 s) come mid-training.
const EPOCHS = 50;
const TRAINER = ['python3', 'trainers/flight_delay/train.py'];
const out = (s: string) => process.stdout.write(`${s}\n`);

class CheckFailed extends Error {}
function check(ok: boolean, what: string): void {
  if (!ok) throw new CheckFailed(what);
}
// gpu-check.sh's time limit sends SIGTERM: the trainer checkpoints and stops as on a worker shutdown, MinIO stops.
const interrupted = new AbortController();
process.once('SIGTERM', () => interrupted.abort());

/** A trainer event line as the reference trainer writes it (trainers/PROTOCOL.md, "Events"). */
interface EventLine {
  event: string;
  seconds?: number;
  samplesProcessed?: number;
  samplesPerSec?: number | null;
}

/**
 * The step loop's samples and seconds, and the seconds of it blocked writing checkpoints, from the trainer's own
 * clock: each `progress` covers the time since the one before (or `started`) at its `samplesPerSec`, and a
 * checkpoint written after the last `progress` (the final one) adds its own seconds. Startup, data loading and the
 * final evaluation are not training time.
 */
function stepLoop(events: EventLine[]) {
  let samples = 0;
  let seconds = 0;
  let blocked = 0;
  let sinceProgress = 0;
  for (const e of events) {
    if (e.event === 'progress' && e.samplesPerSec && e.samplesProcessed !== undefined) {
      seconds += (e.samplesProcessed - samples) / e.samplesPerSec;
      samples = e.samplesProcessed;
      sinceProgress = 0;
    } else if (e.event === 'checkpoint') {
      blocked += e.seconds ?? Number.NaN; // a trainer that does not say cannot be measured
      sinceProgress += e.seconds ?? 0;
    }
  }
  seconds += sinceProgress;
  return { samples, seconds, blocked, checkpoints: events.filter((e) => e.event === 'checkpoint').length };
}

async function main() {
  const gpu = DRY_RUN ? null : (discoverGpus().gpus[0] ?? null);
  check(DRY_RUN || gpu !== null, 'no GPU found (nvidia-smi / CUDA_VISIBLE_DEVICES)');
  const gpuName = gpu
    ? execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader', `--id=${gpu}`])
        .toString()
        .trim()
    : 'none';
  const device = gpu ? 'cuda' : 'cpu';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-gpu-check-'));
  const minio = await startMinio({ dataDir: path.join(dir, 'minio') });
  try {
    const config = AppConfig.parse({ s3: minioS3(minio, 'ct-gpu-check') });
    const store = new ObjectStore(createS3Client(config.s3), config.s3.bucket, config.s3.endpoint);
    await store.ensureBucket();
    const logger = pino({ level: 'error' }, process.stderr);
    const deps = { store, logger, workDir: path.join(dir, 'work'), gitCommit: 'gpu-check' };
    const pythonBinDir = path.join(projectRoot, '.ct', 'tools', 'venv', 'bin');
    const reference = loadModelConfigFile(path.join(projectRoot, 'models', 'flight-delay.yaml'));
    const modelConfig = (o: { device: 'cuda' | 'cpu'; command: string[]; epochs: number; everySteps?: number }) =>
      ModelConfig.parse({
        ...reference,
        trainer: {
          ...reference.trainer,
          device: o.device,
          command: o.command,
          checkpoint: { ...reference.trainer.checkpoint, ...(o.everySteps ? { everySteps: o.everySteps } : {}) },
        },
        hyperparameters: { ...reference.hyperparameters, epochs: o.epochs },
      });

    await store.put('data/2001-01.parquet', flightsParquet(await readFlightsSlice(0, ROWS)));
    const dataStage = {
      modelId: 'flight-delay',
      runId: 'data',
      config: reference,
      datasetKeys: ['data/2001-01.parquet'],
    };
    const prepared: PreparedData = await new MockActivityEnvironment().run(
      createDataActivities(deps).prepareSplits,
      dataStage,
    );
    out(`data: ${prepared.rows} flights of January 2001, ${prepared.splits.train.rows} in the train split`);

    /** One attempt of trainModel as the GPU worker runs it: its heartbeats, and its result or its failure. */
    async function attempt(
      runId: string,
      modelConfigOf: ModelConfig,
      o: {
        gpus: string[];
        attempt?: number;
        previous?: TrainingHeartbeat;
        stopWhen?: (b: TrainingHeartbeat) => boolean;
      },
    ) {
      const shutdown = new AbortController();
      const info = {
        attempt: o.attempt ?? 1,
        // As Temporal hands them on: through JSON.
        heartbeatDetails: o.previous && (JSON.parse(JSON.stringify(o.previous)) as unknown),
        startToCloseTimeoutMs: modelConfigOf.trainer.timeoutMinutes * 60_000,
        heartbeatTimeoutMs: modelConfigOf.trainer.heartbeatTimeoutSeconds * 1000,
      };
      const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
      const beats: TrainingHeartbeat[] = [];
      env.on('heartbeat', (b: TrainingHeartbeat) => {
        beats.push(b);
        if (o.stopWhen?.(b)) shutdown.abort();
      });
      const { trainModel } = createTrainingActivities({
        ...deps,
        pythonBinDir,
        gpuPool: new GpuPool(o.gpus, 1),
        shutdownSignal: AbortSignal.any([shutdown.signal, interrupted.signal]),
      });
      const input = { modelId: 'flight-delay', runId, config: modelConfigOf, prepared };
      const outcome = await env.run<[typeof input], TrainingResult, typeof trainModel>(trainModel, input).then(
        (result) => ({ result, error: null }),
        (error: unknown) => ({ result: null, error: error as Error }),
      );
      if (interrupted.signal.aborted) throw new CheckFailed('stopped by SIGTERM');
      return { ...outcome, beats };
    }

    /** A full training that keeps the trainer's event lines (tee'd to a file): its step loop, measured. */
    async function timed(runId: string, on: 'cuda' | 'cpu', gpus: string[]) {
      const events = path.join(dir, `${runId}.events.jsonl`);
      // tee ignores SIGTERM so that a graceful stop's checkpoint event still gets through; exec keeps the trainer's
      // own pid, exit code and signal for runTrainer.
      const tee = ['bash', '-c', 'trap "" TERM INT; f=$1; shift; exec "$@" > >(exec tee -a "$f")', 'tee', events];
      const config = modelConfig({ device: on, command: [...tee, ...TRAINER], epochs: EPOCHS });
      const run = await attempt(runId, config, { gpus });
      if (run.error) throw run.error;
      check(run.result.resumedFrom === null, `${runId} resumed from ${run.result.resumedFrom}: not a run from step 0`);
      const lines = readFileSync(events, 'utf8').trim().split('\n');
      const loop = stepLoop(lines.map((l) => JSON.parse(l) as EventLine));
      const rate = loop.samples / loop.seconds;
      out(
        `${on} training: ${run.result.steps} steps, ${loop.samples} samples in ${loop.seconds.toFixed(1)} s of step loop → ${rate.toFixed(0)} samples/s; ${loop.checkpoints} checkpoints blocked it ${loop.blocked.toFixed(2)} s`,
      );
      check(run.result.device === on, `trained on ${run.result.device}, not ${on}`);
      return { ...run, loop, rate };
    }

    out(
      `training the reference model on ${device}${gpu ? ` (GPU ${gpu}: ${gpuName})` : ' (CT_GPU_CHECK_DEVICE=cpu: dry run)'}, ${EPOCHS} epochs`,
    );
    const onDevice = await timed('device-timing', device, gpu ? [gpu] : []);
    const withStats = onDevice.beats.filter(
      (b) => typeof b.gpuUtilization === 'number' && typeof b.gpuMemoryMiB === 'number',
    );
    if (gpu) {
      check(withStats.length > 0, `no heartbeat of ${onDevice.beats.length} carried gpuUtilization and gpuMemoryMiB`);
      const peak = (f: (b: TrainingHeartbeat) => number) => Math.max(...withStats.map(f));
      out(
        `heartbeats: ${withStats.length} of ${onDevice.beats.length} carry GPU stats, peak ${peak((b) => b.gpuUtilization!)}% utilization, ${peak((b) => b.gpuMemoryMiB!)} MiB`,
      );
    } else
      out(`heartbeats: GPU stats check skipped: no GPU (${withStats.length} of ${onDevice.beats.length} carry them)`);

    const cpu = await timed('cpu-timing', 'cpu', []);
    const vsCpu = onDevice.rate / cpu.rate;
    out(
      `samples/s: ${onDevice.rate.toFixed(0)} on ${device} vs ${cpu.rate.toFixed(0)} on CPU for the same ${onDevice.result.steps} steps → ${vsCpu.toFixed(2)}x`,
    );
    const blockShare = onDevice.loop.blocked / onDevice.loop.seconds;
    out(
      `checkpoint saves blocked ${(100 * blockShare).toFixed(2)}% of the ${device} step loop (every ${reference.trainer.checkpoint.everySteps} steps or ${reference.trainer.checkpoint.everySeconds} s, and the last step)`,
    );

    // Resume: 20 ms per step so that the stop lands mid-run; attempt 1 stops once a checkpoint is stored in S3.
    const slow = modelConfig({
      device,
      command: ['env', 'CT_TRAINER_STEP_DELAY_MS=20', ...TRAINER],
      epochs: 2,
      everySteps: 100,
    });
    const gpus = gpu ? [gpu] : [];
    const first = await attempt('resume', slow, { gpus, stopWhen: (b) => b.checkpointStep !== undefined });
    const stop = first.error;
    const preempted = stop instanceof ApplicationFailure && stop.type === FailureType.trainerPreempted;
    check(preempted && !stop.nonRetryable, `attempt 1 should end preempted and retryable: ${String(stop)}`);
    const last = first.beats.at(-1)!;
    check(last.checkpointStep !== undefined && last.checkpointKey !== null, 'attempt 1 handed on no stored checkpoint');
    out(
      `resume: attempt 1 stopped by a worker shutdown at step ${last.step}, checkpoint ${last.checkpointKey} (step ${last.checkpointStep})`,
    );
    const second = await attempt('resume', slow, { gpus, attempt: 2, previous: last });
    if (second.error) throw second.error;
    const started = second.beats.find((b) => b.device !== null);
    check(
      started?.resumedFromStep === last.checkpointStep,
      `attempt 2 started at step ${started?.resumedFromStep}, not ${last.checkpointStep}`,
    );
    check(second.result.resumedFrom === last.checkpointKey, `attempt 2 resumed from ${second.result.resumedFrom}`);
    check(second.result.device === device, `attempt 2 trained on ${second.result.device}`);
    check(await store.exists(keys.trainedModel('flight-delay', 'resume')), 'attempt 2 stored no model');
    out(
      `resume: attempt 2 on ${second.result.device} continued from step ${started!.resumedFromStep} to step ${second.result.steps} and stored its model`,
    );

    out(
      `RESULT gpu=${gpuName.replace(/\s+/g, '-')} samples_per_s=${onDevice.rate.toFixed(0)} vs_cpu=${vsCpu.toFixed(2)} checkpoint_block_share=${blockShare.toFixed(4)}`,
    );
  } finally {
    await minio.process.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    const why = err instanceof CheckFailed ? err.message : ((err as Error).stack ?? String(err));
    process.stdout.write(`FAIL gpu-check: ${why}\n`);
    process.exit(1);
  },
);
