// Where an attempt's trainer runs (model config trainer.backend): `local`, a process group on this host (torchrun's
// launcher, ct_trainer.launch, for workers > 1), or `ray`, a job on this worker's Ray cluster (ct_trainer.ray_job).
// Both speak the trainer protocol: the resume loop hands either the same options and reads the same TrainerRun.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ModelConfig } from '../../core/modelConfig';
import { STARTUP_GRACE_SECONDS } from '../../core/trainingAttempt';
import { RayJobs, RayRejectedError } from '../../adapters/rayJobs';
import { runRayTrainer } from '../../adapters/rayTrainer';
import { runTrainer, type RunTrainerOptions, type TrainerRun } from '../../adapters/trainerProcess';

/** The folder holding the trainer SDK (ct_trainer), which both launchers are part of. */
const SDK_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../trainers');
/** A Ray job first waits for the cluster to place its workers and start Ray Train (15-30 s measured here). */
const RAY_STARTUP_GRACE_SECONDS = 180;

export interface TrainerBackend {
  run(opts: RunTrainerOptions): Promise<TrainerRun>;
  /** How long a starting trainer may stay silent before it counts as stalled. */
  startupGraceSeconds: number;
}

export interface BackendDeps {
  ray?: { address: string; python: string };
  pythonBinDir?: string;
  /** Named on the Ray job (its submission id and metadata). */
  job: { modelId: string; runId: string; attempt: number };
  log: Logger;
}

export function trainerBackend(trainer: ModelConfig['trainer'], deps: BackendDeps): TrainerBackend {
  const { workers } = trainer;
  if (trainer.backend === 'ray') {
    const { ray } = deps;
    if (!ray)
      throw new RayRejectedError(
        'trainer.backend is "ray" but this GPU worker has no Ray cluster: set ray.address in its app config (CT_RAY_ADDRESS)',
      );
    const jobs = new RayJobs(ray.address);
    const { modelId, runId, attempt } = deps.job;
    return {
      startupGraceSeconds: RAY_STARTUP_GRACE_SECONDS,
      run: (opts) =>
        runRayTrainer({
          ...opts,
          jobs,
          // Ray keeps every submission id: a resume fallback within the attempt needs a new one.
          submissionId: `ct-${runId}-a${attempt}-${randomUUID().slice(0, 8)}`.replace(/[^\w-]/g, '_'),
          metadata: { modelId, runId, attempt: String(attempt) },
          workers,
          resourcesPerWorker: trainer.ray.resourcesPerWorker,
          placement: trainer.ray.placement,
          python: ray.python,
          sdkRoot: SDK_ROOT,
          warn: (fields, message) => deps.log.warn(fields, message),
        }),
    };
  }
  if (workers === 1) return { startupGraceSeconds: STARTUP_GRACE_SECONDS, run: runTrainer };
  const python = deps.pythonBinDir ? path.join(deps.pythonBinDir, 'python3') : 'python3';
  const launch = [python, '-m', 'ct_trainer.launch', '--workers', String(workers), '--'];
  return {
    startupGraceSeconds: STARTUP_GRACE_SECONDS,
    run: (opts) =>
      runTrainer({
        ...opts,
        command: [...launch, ...opts.command],
        env: { ...opts.env, PYTHONPATH: [SDK_ROOT, opts.env['PYTHONPATH']].filter(Boolean).join(':') },
      }),
  };
}
