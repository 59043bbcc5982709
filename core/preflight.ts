// The preflight smoke run's verdict (README "Preflight"): from what the trainer did in its two short runs (a few
// steps from scratch ending in a checkpoint, then a resume from that checkpoint), the first problem found, if any.
import { z } from 'zod';
import { EXIT } from './trainerProtocol';

/** What one trainer run of the smoke run did. */
export interface SmokeRun {
  exitCode: number | null;
  signal: string | null;
  /** The trainer's last `error` event. */
  error: { class: string; message: string } | null;
  stderrTail: string;
  /** The step of its `started` event; null when it sent none. */
  startedStep: number | null;
  checkpoints: { step: number; path: string }[];
  timedOut: boolean;
}

export interface PreflightProblem {
  kind: 'config' | 'data' | 'checkpoint' | 'crash' | 'killed' | 'timeout';
  message: string;
}

export const PreflightReport = z.object({
  steps: z.int().describe('steps of the first run (from scratch)'),
  rows: z.object({ train: z.int(), validation: z.int() }).describe('rows of the slices the smoke run trained on'),
  checkpointStep: z.int().describe('the step of the checkpoint written, then resumed from'),
  resumedAtStep: z.int(),
  seconds: z.number().describe('wall time of both trainer runs'),
  cpuSeconds: z.number().describe("the trainer processes' CPU time"),
});
export type PreflightReport = z.infer<typeof PreflightReport>;

const said = (run: SmokeRun) => run.error?.message ?? (run.stderrTail.trim() || 'no message');

/** How the run ended, unless it ended as a smoke run may: finished (0), or stopped at maxSteps (75). */
function exitProblem(run: SmokeRun, what: string, timeoutSeconds: number): PreflightProblem | null {
  if (run.timedOut)
    return {
      kind: 'timeout',
      message: `${what} did not end within ${timeoutSeconds} s (preflight.timeoutSeconds): killed`,
    };
  if (run.exitCode === EXIT.ok || run.exitCode === EXIT.preempted) return null;
  switch (run.exitCode) {
    case EXIT.configError:
      return { kind: 'config', message: `trainer rejected its configuration in ${what}: ${said(run)}` };
    case EXIT.dataError:
      return { kind: 'data', message: `trainer rejected its data in ${what}: ${said(run)}` };
    case EXIT.outOfMemory:
      return { kind: 'config', message: `trainer ran out of memory in ${what}: ${said(run)}` };
    case EXIT.checkpointUnusable:
      return { kind: 'checkpoint', message: `trainer could not load the checkpoint it had just written: ${said(run)}` };
    case null:
      return { kind: 'killed', message: `${what} was killed by ${run.signal}: ${said(run)}` };
    default:
      return { kind: 'crash', message: `trainer crashed (exit ${run.exitCode}) in ${what}: ${said(run)}` };
  }
}

/** The first run: `steps` steps from scratch, ending with a checkpoint. */
export function firstRunProblem(run: SmokeRun, steps: number, timeoutSeconds: number): PreflightProblem | null {
  const what = `the preflight run of ${steps} step(s)`;
  const problem = exitProblem(run, what, timeoutSeconds);
  if (problem) return problem;
  if (run.checkpoints.length === 0)
    return {
      kind: 'checkpoint',
      message: `the trainer wrote no checkpoint in ${what} although checkpoint.everySteps was ${steps}: a crash or preemption would restart it from scratch`,
    };
  return null;
}

/** The second run: resumed from the first run's last checkpoint, one step more. */
export function resumeRunProblem(
  run: SmokeRun,
  checkpoint: { step: number },
  timeoutSeconds: number,
): PreflightProblem | null {
  const what = `the preflight resume from step ${checkpoint.step}`;
  const problem = exitProblem(run, what, timeoutSeconds);
  if (problem) return problem;
  if (run.startedStep === null) return { kind: 'crash', message: `the trainer sent no \`started\` event in ${what}` };
  if (run.startedStep !== checkpoint.step)
    return {
      kind: 'checkpoint',
      message: `the trainer resumed at step ${run.startedStep}, not at the step of its checkpoint (${checkpoint.step})`,
    };
  return null;
}

/** `n` row indices spread evenly over `total` rows (all of them when there are no more than `n`). */
export function spreadRows(total: number, n: number): number[] {
  if (total <= n) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
}
