// The factory report: throughput, cycle time and scrap of retraining runs, from their facts (core/runFacts.ts) and
// their training attempt records. Pure; the definitions are the README's ("The factory report").
import { z } from 'zod';
import { type AttemptRecord, stepsRedone as redoneSince } from './attempts';
import { SlotIdle, slotIdle } from './gpuIdle';
import { RunEnd, type RunFacts } from './runFacts';
import { STAGES } from './runStatus';

export const REPORT_VERSION = 2;

export const Percentiles = z.object({
  count: z.number().int(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  max: z.number().nullable(),
});
export type Percentiles = z.infer<typeof Percentiles>;

export const ScrapCause = z.enum([
  // Attempts of runs that ended promoted: the part of their work no checkpoint kept.
  'crashed',
  'preempted',
  'stalled',
  'lost',
  'out-of-memory',
  'store-unavailable',
  'attempt-cancelled',
  // Sweep trials of promoted runs that did not become the model: stopped at a rung, or trained but beaten.
  'sweep-trial',
  // Whole runs that ended without a promoted model (terminated and timed-out ones count as cancelled).
  ...RunEnd.exclude(['promoted', 'terminated', 'timed-out', 'running']).options,
]);
export type ScrapCause = z.infer<typeof ScrapCause>;

export const FactorySection = z.object({
  throughput: z.object({
    runs: z.number().int().describe('runs started in the window'),
    byEnd: z.record(RunEnd, z.number().int()),
    promotedPerDay: z.record(z.string(), z.number().int()).describe('UTC day of the promotion → models promoted'),
    promotedPerWeek: z
      .record(z.string(), z.number().int())
      .describe('ISO week of the promotion (2026-W49, UTC) → models promoted'),
    endedPerDay: z
      .record(z.string(), z.partialRecord(RunEnd, z.number().int()))
      .describe('UTC day a run closed → runs closed that day by how they ended (open runs are not counted)'),
  }),
  cycleTime: z.object({
    triggerToPromotedSeconds: Percentiles,
    stageSeconds: z.record(z.string(), Percentiles),
    gpuQueueSeconds: Percentiles.describe('training scheduled → first attempt started'),
    approvalWaitSeconds: Percentiles,
    retryBackoffSeconds: Percentiles.describe('per run: gaps between one attempt ending and the next starting'),
  }),
  compute: z.object({
    deviceSeconds: z.number().describe('GPU-seconds, or CPU-seconds of the trainer where no GPU'),
    gpuSeconds: z.number(),
    cpuSeconds: z.number(),
  }),
  scrap: z.object({
    deviceSeconds: z.number(),
    share: z.number().nullable().describe('scrap / all device-seconds; null when nothing was computed'),
    byCause: z.record(ScrapCause, z.number()),
    stepsRedone: z.number().int().describe('training steps run again after a resume (lost since the checkpoint)'),
  }),
  scrapAvoided: z.object({
    stoppedBeforeTraining: z
      .number()
      .int()
      .describe('runs that failed in validate or prepare: refused before any GPU time'),
    reusedRuns: z.number().int().default(0).describe('runs that reused an identical finished training'),
    reusedGpuSeconds: z.number().default(0).describe('GPU-seconds those trainings took, not spent again'),
    reusedCpuSeconds: z.number().default(0).describe('CPU-seconds of trainings on CPU workers, not spent again'),
  }),
  cost: z.object({
    currency: z.string(),
    total: z.number(),
    scrap: z.number(),
    perPromotedModel: z.number().nullable(),
    perModelPerMonth: z
      .number()
      .nullable()
      .describe("cost per model per 30 days at the window's rate: total / models with runs / (window days / 30)"),
  }),
});
export type FactorySection = z.infer<typeof FactorySection>;

export const FactoryReport = z.object({
  reportVersion: z.literal(REPORT_VERSION),
  window: z.object({ since: z.string(), until: z.string() }),
  prices: z.object({
    gpuHour: z.number(),
    cpuHour: z.number(),
    currency: z.string(),
    byTaskQueue: z
      .record(z.string(), z.object({ gpuHour: z.number().optional(), cpuHour: z.number().optional() }))
      .describe('prices of one worker pool (the training task queue), over the defaults')
      .default({}),
  }),
  fleet: FactorySection,
  models: z.record(z.string(), FactorySection),
  gpuIdle: z
    .array(SlotIdle)
    .describe(
      "per worker slot seen in the attempt records of the report's runs (a slot that never trained in the window is not listed): the share of the window with no training on it",
    ),
});
export type FactoryReport = z.infer<typeof FactoryReport>;

export interface ReportRun {
  facts: RunFacts;
  attempts: AttemptRecord[];
}

export interface ReportOptions {
  since: Date;
  until: Date;
  prices: FactoryReport['prices'];
}

/** Nearest-rank percentiles. */
export function percentiles(values: number[]): Percentiles {
  const v = [...values].sort((a, b) => a - b);
  const rank = (p: number) => (v.length ? v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)]! : null);
  return { count: v.length, p50: rank(0.5), p90: rank(0.9), max: v.length ? v[v.length - 1]! : null };
}

/** The scrap cause of an attempt that did not succeed (config and data errors scrap nothing: they fail at once). */
export const ATTEMPT_SCRAP_CAUSE: Partial<Record<AttemptRecord['outcome'], ScrapCause>> = {
  crashed: 'crashed',
  preempted: 'preempted',
  stalled: 'stalled',
  lost: 'lost',
  'out-of-memory': 'out-of-memory',
  'store-unavailable': 'store-unavailable',
  cancelled: 'attempt-cancelled',
};

/**
 * Scrap of one run. A run that ended without a promoted model scraps all its compute, under how it ended. A
 * promoted run scraps, of each attempt that did not succeed, its time after the checkpoint the next attempt resumed
 * from when that is the newest one it stored (work after the trainer's last report included); else the share of its
 * steps after the checkpoint resumed from; all of it when it made no progress or nothing resumed from it. Of a
 * sweep, every trial but the winner is scrap (`sweep-trial`); the winner's rungs are one chain.
 */
export function runScrap(run: ReportRun): { byCause: Partial<Record<ScrapCause, number>>; stepsRedone: number } {
  const attempts = [...run.attempts].sort((a, b) => a.attempt - b.attempt);
  const byCause: Partial<Record<ScrapCause, number>> = {};
  const add = (cause: ScrapCause, seconds: number) => (byCause[cause] = (byCause[cause] ?? 0) + seconds);
  const { end } = run.facts;
  if (end === 'running') return { byCause, stepsRedone: 0 };
  if (end !== 'promoted') {
    const cause: ScrapCause = end === 'terminated' || end === 'timed-out' ? 'cancelled' : end;
    const total = attempts.reduce((s, a) => s + a.deviceSeconds, 0);
    if (total > 0) add(cause, total);
    return { byCause, stepsRedone: 0 };
  }
  // A sweep trial is a chain of its own (rung after rung, resuming its own checkpoints); all but the winner's are scrap.
  const chains = new Map<string, AttemptRecord[]>();
  for (const a of attempts) {
    const chain = a.trial?.name ?? '';
    if (a.trial && a.trial.name !== run.facts.sweepWinner) add('sweep-trial', a.deviceSeconds);
    else chains.set(chain, [...(chains.get(chain) ?? []), a]);
  }
  let stepsRedone = 0;
  for (const chain of chains.values()) stepsRedone += chainScrap(chain, add);
  return { byCause, stepsRedone };
}

/** Scrap of one chain of attempts (each resuming the one before), by rung then attempt; its steps redone. */
function chainScrap(chain: AttemptRecord[], add: (cause: ScrapCause, seconds: number) => void): number {
  const attempts = [...chain].sort((a, b) => (a.trial?.rung ?? 0) - (b.trial?.rung ?? 0) || a.attempt - b.attempt);
  let stepsRedone = 0;
  attempts.forEach((a, i) => {
    const cause = ATTEMPT_SCRAP_CAUSE[a.outcome];
    if (!cause) return;
    const kept = Math.min(a.lastStep, Math.max(a.resumedFromStep, attempts[i + 1]?.resumedFromStep ?? 0));
    const progressed = a.lastStep - a.resumedFromStep;
    const byTime = a.lastCheckpoint?.step === kept && a.wallSeconds > 0;
    const lostShare = byTime
      ? Math.min(
          1,
          Math.max(0, (Date.parse(a.endedAt) - Date.parse(a.lastCheckpoint!.writtenAt)) / 1000 / a.wallSeconds),
        )
      : progressed > 0
        ? (a.lastStep - kept) / progressed
        : 1;
    stepsRedone += redoneSince(a.lastStep, kept);
    add(cause, a.deviceSeconds * lostShare);
  });
  return stepsRedone;
}

/** The ISO 8601 week (UTC) of an ISO timestamp: "2026-W49". */
export function isoWeek(iso: string): string {
  const d = new Date(Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)));
  const weekday = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - weekday); // the Thursday of its week decides the year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** What one run's compute cost, at the prices of the worker pool it trained on. */
function runCost(run: ReportRun, prices: FactoryReport['prices']): number {
  const pool = run.facts.trainTaskQueue ? prices.byTaskQueue[run.facts.trainTaskQueue] : undefined;
  const gpuHour = pool?.gpuHour ?? prices.gpuHour;
  const cpuHour = pool?.cpuHour ?? prices.cpuHour;
  return run.attempts.reduce(
    (s, a) => s + (a.deviceSeconds / 3600) * (a.deviceSecondsKind === 'gpu' ? gpuHour : cpuHour),
    0,
  );
}

function section(runs: ReportRun[], prices: FactoryReport['prices'], windowDays: number): FactorySection {
  const byEnd = Object.fromEntries(RunEnd.options.map((e) => [e, 0])) as Record<z.infer<typeof RunEnd>, number>;
  const promotedPerDay: Record<string, number> = {};
  const promotedPerWeek: Record<string, number> = {};
  const endedPerDay: FactorySection['throughput']['endedPerDay'] = {};
  const cycle: number[] = [];
  const stageSeconds: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
  const queue: number[] = [];
  const backoff: number[] = [];
  const byCause = Object.fromEntries(ScrapCause.options.map((c) => [c, 0])) as Record<ScrapCause, number>;
  let stepsRedone = 0;
  let gpuSeconds = 0;
  let cpuSeconds = 0;
  let stoppedBeforeTraining = 0;
  const reused = { runs: 0, gpu: 0, cpu: 0 };
  let total = 0;
  let scrapCost = 0;

  for (const run of runs) {
    const { facts } = run;
    byEnd[facts.end]++;
    if (facts.closedAt && facts.end !== 'running') {
      const ended = (endedPerDay[facts.closedAt.slice(0, 10)] ??= {});
      ended[facts.end] = (ended[facts.end] ?? 0) + 1;
    }
    if (facts.end === 'promoted' && facts.closedAt) {
      cycle.push((Date.parse(facts.closedAt) - Date.parse(facts.startedAt)) / 1000);
      const day = facts.closedAt.slice(0, 10);
      promotedPerDay[day] = (promotedPerDay[day] ?? 0) + 1;
      const week = isoWeek(facts.closedAt);
      promotedPerWeek[week] = (promotedPerWeek[week] ?? 0) + 1;
    }
    for (const stage of STAGES) {
      const s = facts.stageSeconds[stage];
      if (s !== undefined) stageSeconds[stage]!.push(s);
    }
    if (facts.stoppedIn === 'validate' || facts.stoppedIn === 'prepare' || facts.stoppedIn === 'preflight')
      stoppedBeforeTraining++;
    if (facts.reused) {
      reused.runs++;
      reused[facts.reused.deviceSecondsKind] += facts.reused.deviceSeconds;
    }
    const attempts = [...run.attempts].sort((a, b) => a.attempt - b.attempt);
    if (facts.trainScheduledAt && attempts[0])
      queue.push(Math.max(0, (Date.parse(attempts[0].startedAt) - Date.parse(facts.trainScheduledAt)) / 1000));
    if (attempts.length > 1)
      backoff.push(
        attempts
          .slice(1)
          .reduce((s, a, i) => s + Math.max(0, Date.parse(a.startedAt) - Date.parse(attempts[i]!.endedAt)) / 1000, 0),
      );
    for (const a of attempts) {
      if (a.deviceSecondsKind === 'gpu') gpuSeconds += a.deviceSeconds;
      else cpuSeconds += a.deviceSeconds;
    }
    const scrap = runScrap(run);
    for (const [cause, s] of Object.entries(scrap.byCause)) byCause[cause as ScrapCause] += s;
    stepsRedone += scrap.stepsRedone;
    // A run's scrap is priced at its share of that run's cost (the mix of compute and the pool it came from).
    const cost = runCost(run, prices);
    const runSeconds = run.attempts.reduce((s, a) => s + a.deviceSeconds, 0);
    const runScrapSeconds = Object.values(scrap.byCause).reduce((s, v) => s + (v ?? 0), 0);
    total += cost;
    if (runSeconds > 0) scrapCost += cost * (runScrapSeconds / runSeconds);
  }

  const deviceSeconds = gpuSeconds + cpuSeconds;
  const scrapSeconds = Object.values(byCause).reduce((s, v) => s + v, 0);
  const models = new Set(runs.map((r) => r.facts.modelId)).size;
  return {
    throughput: { runs: runs.length, byEnd, promotedPerDay, promotedPerWeek, endedPerDay },
    cycleTime: {
      triggerToPromotedSeconds: percentiles(cycle),
      stageSeconds: Object.fromEntries(Object.entries(stageSeconds).map(([s, v]) => [s, percentiles(v)])),
      gpuQueueSeconds: percentiles(queue),
      approvalWaitSeconds: percentiles(stageSeconds.approval!),
      retryBackoffSeconds: percentiles(backoff),
    },
    compute: { deviceSeconds, gpuSeconds, cpuSeconds },
    scrap: {
      deviceSeconds: scrapSeconds,
      share: deviceSeconds > 0 ? scrapSeconds / deviceSeconds : null,
      byCause,
      stepsRedone,
    },
    scrapAvoided: {
      stoppedBeforeTraining,
      reusedRuns: reused.runs,
      reusedGpuSeconds: reused.gpu,
      reusedCpuSeconds: reused.cpu,
    },
    cost: {
      currency: prices.currency,
      total,
      scrap: scrapCost,
      perPromotedModel: byEnd.promoted > 0 ? total / byEnd.promoted : null,
      perModelPerMonth: models > 0 && windowDays > 0 ? total / models / (windowDays / 30) : null,
    },
  };
}

/** The report over the runs started in [since, until): the fleet, and each model. */
export function factoryReport(runs: ReportRun[], opts: ReportOptions): FactoryReport {
  const inWindow = runs.filter((r) => {
    const t = Date.parse(r.facts.startedAt);
    return t >= opts.since.getTime() && t < opts.until.getTime();
  });
  const days = (opts.until.getTime() - opts.since.getTime()) / 86_400_000;
  const byModel = new Map<string, ReportRun[]>();
  for (const r of inWindow) byModel.set(r.facts.modelId, [...(byModel.get(r.facts.modelId) ?? []), r]);
  return {
    reportVersion: REPORT_VERSION,
    window: { since: opts.since.toISOString(), until: opts.until.toISOString() },
    prices: opts.prices,
    fleet: section(inWindow, opts.prices, days),
    models: Object.fromEntries(
      [...byModel].sort(([a], [b]) => a.localeCompare(b)).map(([m, r]) => [m, section(r, opts.prices, days)]),
    ),
    gpuIdle: slotIdle(
      inWindow.flatMap((r) => r.attempts),
      opts.since,
      opts.until,
    ),
  };
}
