// Hyperparameter sweeps (README "Sweeps"): the `sweep` section of a model config, the trials it expands to, and the
// successive-halving decisions between rungs. Pure: the pipeline's sweep stage (workflows/pipeline/sweep.ts) runs
// the trials and asks these functions what to do next.
import { z } from 'zod';
import { seededRandom } from './split';

/** One swept hyperparameter: a list of values (grid or random choice) or a numeric range (random search only). */
export const SweepDimension = z.union([
  z
    .object({ values: z.array(z.unknown()).min(1, 'an empty list of values: give at least one') })
    .strict()
    .describe('the values to try (grid: each; random: one drawn per trial)'),
  z
    .object({
      min: z.number(),
      max: z.number(),
      scale: z.enum(['linear', 'log']).default('linear').describe('log: drawn uniformly in log space (min > 0)'),
      integer: z.boolean().default(false).describe('rounded to an integer'),
    })
    .strict()
    .refine((r) => r.min < r.max, { message: 'an empty range: min must be below max', path: ['max'] })
    .refine((r) => r.scale !== 'log' || r.min > 0, { message: 'a log scale needs min > 0', path: ['min'] })
    .describe('a range drawn from by random search'),
]);
export type SweepDimension = z.infer<typeof SweepDimension>;

export const SweepSettings = z
  .object({
    metric: z
      .object({
        name: z
          .string()
          .min(1)
          .describe('a validation metric the trainer reports in its progress events (loss, accuracy…)'),
        goal: z.enum(['maximize', 'minimize']),
      })
      .strict()
      .describe('what ranks the trials: at each rung, and for the winner'),
    search: z.enum(['grid', 'random']).default('grid'),
    space: z
      .record(z.string().min(1), SweepDimension)
      .refine((s) => Object.keys(s).length > 0, 'an empty space: name at least one hyperparameter')
      .describe('hyperparameter → values or range; the other hyperparameters keep their values'),
    trials: z
      .int()
      .min(1, 'a budget of at least 1 trial')
      .max(200)
      .optional()
      .describe('the trial budget: random search draws this many; a grid tries each point (default: all of them)'),
    concurrency: z.int().min(1).max(64).default(2).describe('trials training at once (each also needs a GPU slot)'),
    seed: z.int().min(0).optional().describe("random search's seed (default: the model's seed)"),
    halving: z
      .object({
        eta: z.int().min(2).default(3).describe('each rung keeps the best 1/eta of the trials that reached it'),
        minSteps: z.int().min(1).describe('the first rung, in optimizer steps; rung k is at minSteps × eta^k'),
      })
      .strict()
      .optional()
      .describe('successive halving: weak trials stop at a rung; without it every trial trains to the end'),
  })
  .strict();
export type SweepSettings = z.infer<typeof SweepSettings>;

/** One trial: its name and the hyperparameters it trains with (the base ones with the swept values in). */
export interface Trial {
  name: string;
  /** The swept values alone. */
  values: Record<string, unknown>;
  hyperparameters: Record<string, unknown>;
}

/** A trial's swept values for people: `learningRate=0.001 channels=[16,32]`. */
export function trialValuesText(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
}

type Issue = { path: (string | number)[]; message: string };

/** The points of a grid (each dimension a list of values), in order: the last dimension varies fastest. */
function gridPoints(space: SweepSettings['space']): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [name, dim] of Object.entries(space)) {
    if (!('values' in dim)) return [];
    points = points.flatMap((p) => dim.values.map((v) => ({ ...p, [name]: v })));
  }
  return points;
}

/** Problems of a sweep section that the schema alone cannot see (paths relative to the config). */
export function sweepIssues(sweep: SweepSettings): Issue[] {
  const issues: Issue[] = [];
  if (sweep.search === 'grid') {
    for (const [name, dim] of Object.entries(sweep.space))
      if (!('values' in dim))
        issues.push({
          path: ['sweep', 'space', name],
          message: 'a grid tries listed values: give values, or use search: random for a range',
        });
    const size = gridPoints(sweep.space).length;
    if (issues.length === 0 && sweep.trials !== undefined && sweep.trials < size)
      issues.push({
        path: ['sweep', 'trials'],
        message: `the grid has ${size} points but the budget is ${sweep.trials} trials: raise trials, leave it out, or use search: random`,
      });
  } else if (sweep.trials === undefined) {
    issues.push({ path: ['sweep', 'trials'], message: 'random search needs a trial budget (trials)' });
  }
  return issues;
}

function draw(dim: SweepDimension, next: () => number): unknown {
  if ('values' in dim) return dim.values[Math.floor(next() * dim.values.length)];
  const u = next();
  const x =
    dim.scale === 'log'
      ? Math.exp(Math.log(dim.min) + u * Math.log(dim.max / dim.min))
      : dim.min + u * (dim.max - dim.min);
  return dim.integer ? Math.round(x) : Number(x.toPrecision(6));
}

/** The trials of a sweep over `base` hyperparameters: t01, t02… in grid order, or drawn with `seed`. */
export function planTrials(sweep: SweepSettings, base: Record<string, unknown>, seed: number): Trial[] {
  // The same seed draws the same trials on every worker and every replay.
  const next = seededRandom(sweep.seed ?? seed);
  const points =
    sweep.search === 'grid'
      ? gridPoints(sweep.space)
      : Array.from({ length: sweep.trials! }, () =>
          Object.fromEntries(Object.entries(sweep.space).map(([name, dim]) => [name, draw(dim, next)])),
        );
  const width = String(points.length).length < 2 ? 2 : String(points.length).length;
  return points.map((values, i) => ({
    name: `t${String(i + 1).padStart(width, '0')}`,
    values,
    hyperparameters: { ...base, ...values },
  }));
}

/** Where one trial stands in its sweep (the run status and the Web UI show it). */
export const TrialStatus = z.object({
  name: z.string(),
  values: z.record(z.string(), z.unknown()),
  state: z
    .enum(['pending', 'training', 'paused', 'stopped', 'finished', 'failed'])
    .describe(
      'paused: reached its rung, waiting for the others; stopped: not among the best at a rung; finished: trained to the end',
    ),
  rung: z.int().describe('the last rung it was sent to (0 = the first)'),
  step: z.int().describe('the last step it reached'),
  metric: z.number().nullable().describe("the sweep metric at that step, as the trainer's last validation reported it"),
  error: z.string().nullable(),
});
export type TrialStatus = z.infer<typeof TrialStatus>;

export const SweepStatus = z.object({
  metric: SweepSettings.shape.metric,
  halving: z.boolean(),
  rungs: z.array(z.int()).describe('the step each rung ran to (null steps, to the end, are left out)'),
  trials: z.array(TrialStatus),
  winner: z.string().nullable(),
});
export type SweepStatus = z.infer<typeof SweepStatus>;

/** A trial's result at a rung: the step it stopped at and its metric there (null when not a finite number). */
export interface RungScore {
  name: string;
  metric: number | null;
}

/** Best first by the goal; a trial whose metric is not a number ranks last; ties keep the trial order. */
export function rankTrials<T extends RungScore>(scores: T[], goal: 'maximize' | 'minimize'): T[] {
  const sign = goal === 'maximize' ? -1 : 1;
  return scores
    .map((s, i) => ({ s, i }))
    .sort((a, b) => {
      if (a.s.metric === null || b.s.metric === null)
        return (a.s.metric === null ? 1 : 0) - (b.s.metric === null ? 1 : 0) || a.i - b.i;
      return sign * (a.s.metric - b.s.metric) || a.i - b.i;
    })
    .map(({ s }) => s);
}

/** How many of `reached` trials go on past a rung: the best 1/eta, at least one. */
export function keptAtRung(reached: number, eta: number): number {
  return Math.max(1, Math.floor(reached / eta));
}

/** The step rung `rung` trains to: minSteps × eta^rung, or null (to the end) once that reaches the trial's end. */
export function rungStop(halving: SweepSettings['halving'], rung: number, totalSteps: number | null): number | null {
  if (!halving) return null;
  const stop = halving.minSteps * halving.eta ** rung;
  return totalSteps !== null && stop >= totalSteps ? null : stop;
}

/** The metric a trainer reported, or why it cannot rank the trial (a clear error rather than a guess). */
export function rungMetric(
  validation: Record<string, number | null> | null,
  metric: string,
  where: string,
): { value: number | null } | { missing: string } {
  if (validation === null)
    return {
      missing: `${where}: the trainer reported no validation metrics, so the sweep cannot rank it by "${metric}": send "validation" in progress events at least at each epoch end (trainers/PROTOCOL.md), or start the rungs later (sweep.halving.minSteps)`,
    };
  if (!(metric in validation))
    return {
      missing: `${where}: the trainer's validation metrics are ${Object.keys(validation).join(', ') || 'empty'}, without "${metric}" (sweep.metric.name)`,
    };
  const value = validation[metric];
  return { value: typeof value === 'number' && Number.isFinite(value) ? value : null };
}
