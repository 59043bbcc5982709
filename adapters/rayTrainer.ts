// Runs a trainer as a Ray job (the `ray` training backend): the job's entrypoint is ct_trainer.ray_job, which places
// the data-parallel ranks with Ray Train; the trainer's events are read from the job's log as they come, exactly as
// a local trainer's stdout. A stop asks the ranks to checkpoint (the stop file) and stops the job after the grace;
// a kill stops it at once. Ray's nodes must see the attempt folder and the trainer code at the same paths (README,
// "Beyond one machine").
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobLogLines, placementProblem, rayJobEntrypoint } from '../core/rayAttempt';
import { isTerminal, type RayJob, RayJobs, RayRejectedError } from './rayJobs';
import { TrainerOutput, whenAborted } from './trainerOutput';
import type { RunTrainerOptions, TrainerRun } from './trainerProcess';

export interface RayTrainerOptions extends RunTrainerOptions {
  jobs: RayJobs;
  /** Unique per trainer run: Ray refuses a submission id it has seen. */
  submissionId: string;
  metadata: Record<string, string>;
  workers: number;
  resourcesPerWorker: Record<string, number>;
  placement: 'SPREAD' | 'PACK';
  /** The cluster's Python, with PyTorch and Ray; the folder holding ct_trainer. */
  python: string;
  sdkRoot: string;
  warn: (fields: object, message: string) => void;
}

const POLL_MS = 500;
/** How long a stopped job may take to end before the attempt gives up waiting on it. */
const STOP_WAIT_MS = 60_000;

export async function runRayTrainer(opts: RayTrainerOptions): Promise<TrainerRun> {
  const { jobs, submissionId } = opts;
  for (const orphan of await stopJobsOfRun(jobs, opts.metadata['runId']!))
    opts.warn({ job: orphan }, 'stopped the Ray job of an earlier attempt of this run, whose worker was lost');
  const problem = placementProblem(await jobs.aliveNodeResources(), opts.workers, opts.resourcesPerWorker);
  if (problem) throw new RayRejectedError(`Ray cluster at ${jobs.address} ${problem}`);
  const stopFile = path.join(path.dirname(opts.configFile), `stop-${submissionId}`);
  const entrypoint = rayJobEntrypoint({
    ...opts,
    stopFile,
    trainerArgv: [...opts.command, opts.mode, '--config', opts.configFile],
  });
  const startedAt = Date.now();
  await jobs.submit(submissionId, entrypoint, opts.metadata);

  let stopAt: number | null = null; // when to stop the job
  const onAbort = () => {
    // The ranks see it within a second and checkpoint; the job is stopped if they have not ended by the grace.
    writeFile(stopFile, '').catch(() => undefined);
    stopAt ??= Date.now() + (opts.graceMs ?? 30_000);
  };
  const unlisten = [whenAborted(opts.signal, onAbort), whenAborted(opts.killSignal, () => (stopAt = Date.now()))];

  const output = new TrainerOutput(opts);
  const log = new JobLogLines();
  // The driver prints the ranks' events on stdout; the rest of its log is Ray's and the trainers' stderr.
  const take = (lines: string[]) => {
    for (const line of lines)
      if (line.startsWith('{')) output.event(line);
      else output.log(line);
  };
  // The log streams in as it is written; a dropped stream is opened again (from the start: JobLogLines skips).
  const stream: { tail: { close(): void } | null } = { tail: null };
  const follow = () => {
    log.restart();
    stream.tail = jobs.tail(
      submissionId,
      (text) => take(log.add(text)),
      () => (stream.tail = null),
    );
  };
  let job: RayJob | null = null;
  let stopSent: number | null = null;
  try {
    for (;;) {
      let lastSeen: Error | null = null;
      try {
        job = await jobs.status(submissionId);
        if (!stream.tail && !isTerminal(job)) follow();
      } catch (err) {
        if (err instanceof RayRejectedError) throw err;
        lastSeen = err as Error; // a blip; the watchdog decides when silence is a stall
      }
      if (job && isTerminal(job) && !lastSeen) break;
      if (stopAt !== null && Date.now() >= stopAt && stopSent === null) {
        stopSent = Date.now();
        // A stop that does not get through shows as a job that does not end (below).
        await jobs.stop(submissionId).catch(() => undefined);
      }
      if (stopSent !== null && Date.now() - stopSent > STOP_WAIT_MS)
        throw new Error(
          `Ray job ${submissionId} did not end ${STOP_WAIT_MS / 1000}s after it was stopped${lastSeen ? `: ${lastSeen.message}` : ''}`,
        );
      await sleep(POLL_MS);
    }
    // What the stream had not brought yet (it may lag the job's end): the whole log, once.
    stream.tail?.close();
    take(log.finish(await jobs.logs(submissionId)));
  } finally {
    stream.tail?.close();
    for (const remove of unlisten) remove();
  }
  await output.drained();
  if (job.status === 'FAILED' && job.driver_exit_code == null)
    // Ray failed the job before its driver ran (a runtime env it could not set up, a bad entrypoint).
    output.log(job.message ?? 'the job failed before its driver started');
  const { lastError, stderrTail } = output;
  // Ray does not say what the ranks used; what the attempt held is the workers' CPUs for its wall time.
  const heldCpus = opts.workers * (opts.resourcesPerWorker['CPU'] ?? 0);
  return {
    exitCode: job.driver_exit_code ?? null,
    signal: null,
    lastError,
    stderrTail,
    cpuSeconds: ((Date.now() - startedAt) / 1000) * heldCpus,
  };
}

/**
 * Stops the jobs of `runId` still running: an earlier attempt's, whose worker died (the server retried the attempt
 * after its heartbeat timeout, but nobody stopped its job). Resolves once they ended; returns their ids.
 */
async function stopJobsOfRun(jobs: RayJobs, runId: string): Promise<string[]> {
  const running = (await jobs.list()).filter((j) => j.metadata?.['runId'] === runId && !isTerminal(j));
  const ids = running.map((j) => j.submission_id).filter((id): id is string => !!id);
  await Promise.all(ids.map((id) => jobs.stop(id)));
  const deadline = Date.now() + STOP_WAIT_MS;
  for (const id of ids)
    while (!isTerminal(await jobs.status(id))) {
      if (Date.now() > deadline)
        throw new Error(`Ray job ${id} of an earlier attempt did not end after it was stopped`);
      await sleep(POLL_MS);
    }
  return ids;
}
