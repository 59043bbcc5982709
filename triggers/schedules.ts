// Temporal Schedules per model: periodic drift checks (driftCheck) and, optionally, periodic retraining
// (scheduledRetrain → the supervisor). Ids: ct/<modelId>/drift-check and ct/<modelId>/retrain.
import {
  type Client,
  ScheduleAlreadyRunning,
  type ScheduleOverlapPolicy,
  ScheduleNotFoundError,
  type ScheduleSpec,
} from '@temporalio/client';
import { z } from 'zod';
import { workflowIds } from '../core/keys';
import { ModelId } from '../core/modelConfig';
import { InvalidInputError, parseOrThrow } from '../core/parse';

const Every = z
  .string()
  .regex(/^\d+(\.\d+)?(s|m|h|d)$/, 'an interval like 30m, 6h or 1d')
  .optional();
const OverlapPolicy = z.enum(['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all']);

export const ScheduleRequest = z
  .object({
    modelId: ModelId,
    every: Every.describe('drift-check interval'),
    cron: z.string().min(1).optional().describe('drift-check cron expression (UTC), instead of --every'),
    retrainEvery: Every.describe('also retrain periodically at this interval'),
    retrainCron: z.string().min(1).optional(),
    overlap: OverlapPolicy.default('skip').describe('what happens when the previous action is still running'),
    paused: z.boolean().default(false),
  })
  .strict()
  .superRefine((r, ctx) => {
    if ((r.every === undefined) === (r.cron === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['every'],
        message: 'give exactly one of --every <duration> or --cron <expression>',
      });
    if (r.retrainEvery !== undefined && r.retrainCron !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['retrainEvery'],
        message: 'give at most one of --retrain-every or --retrain-cron',
      });
  });
export type ScheduleRequest = z.input<typeof ScheduleRequest>;

export type ScheduleKind = 'drift-check' | 'retrain';
const scheduleId = (modelId: string, kind: ScheduleKind) =>
  kind === 'drift-check' ? workflowIds.driftSchedule(modelId) : workflowIds.retrainSchedule(modelId);

function spec(every: string | undefined, cron: string | undefined): ScheduleSpec {
  return every
    ? { intervals: [{ every: every as `${number}${'s' | 'm' | 'h' | 'd'}` }] }
    : { cronExpressions: [cron!] };
}

const overlapOf = (o: z.infer<typeof OverlapPolicy>) => o.toUpperCase().replace('-', '_') as ScheduleOverlapPolicy;

const ACTIONS: Record<
  ScheduleKind,
  { workflowType: string; workflowId: (m: string) => string; summary: (m: string) => string }
> = {
  'drift-check': {
    workflowType: 'driftCheck',
    workflowId: (m) => `drift-check/${m}`,
    summary: (m) => `scheduled drift check of ${m}`,
  },
  retrain: {
    workflowType: 'scheduledRetrain',
    workflowId: (m) => `scheduled-retrain/${m}`,
    summary: (m) => `scheduled retrain request for ${m}`,
  },
};

/** Creates the drift-check schedule (and the retrain schedule when asked); an existing one is an error naming it. */
export async function createSchedules(client: Client, raw: ScheduleRequest, taskQueue: string): Promise<string[]> {
  const req = parseOrThrow(ScheduleRequest, raw, 'schedule');
  const wanted: [ScheduleKind, ScheduleSpec][] = [['drift-check', spec(req.every, req.cron)]];
  if (req.retrainEvery !== undefined || req.retrainCron !== undefined)
    wanted.push(['retrain', spec(req.retrainEvery, req.retrainCron)]);
  const created: string[] = [];
  for (const [kind, when] of wanted) {
    const action = ACTIONS[kind];
    const id = scheduleId(req.modelId, kind);
    try {
      await client.schedule.create({
        scheduleId: id,
        spec: when,
        // The schedule appends its fire time to the workflow id, so each action has its own.
        action: {
          type: 'startWorkflow',
          workflowType: action.workflowType,
          args: [{ modelId: req.modelId }],
          taskQueue,
          workflowId: action.workflowId(req.modelId),
          staticSummary: action.summary(req.modelId),
        },
        policies: { overlap: overlapOf(req.overlap), catchupWindow: '1 hour' },
        state: { paused: req.paused, note: 'created by ct schedule create' },
      });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning)
        throw new InvalidInputError('schedule', [
          `${id} already exists: delete it first (ct schedule delete ${req.modelId} --kind ${kind})${created.length ? `; created ${created.join(', ')}` : ''}`,
        ]);
      throw err;
    }
    created.push(id);
  }
  return created;
}

export interface ScheduleInfo {
  scheduleId: string;
  modelId: string;
  kind: ScheduleKind;
  paused: boolean;
  spec: string;
  nextRuns: string[];
  recentRuns: string[];
}

const readableMs = (ms: number): string => {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms / 1000}s`;
};

/** Our schedules (ids ct/<modelId>/...), optionally of one model. */
export async function listSchedules(client: Client, modelId?: string): Promise<ScheduleInfo[]> {
  const out: ScheduleInfo[] = [];
  for await (const s of client.schedule.list()) {
    const m = /^ct\/([^/]+)\/(drift-check|retrain)$/.exec(s.scheduleId);
    if (!m || (modelId && m[1] !== modelId)) continue;
    const d = await client.schedule.getHandle(s.scheduleId).describe();
    const every = (d.spec.intervals ?? []).map(
      (i) => `every ${typeof i.every === 'number' ? readableMs(i.every) : i.every}`,
    );
    const cron = (d.spec.calendars ?? []).length ? ['calendar/cron'] : [];
    out.push({
      scheduleId: s.scheduleId,
      modelId: m[1]!,
      kind: m[2] as ScheduleKind,
      paused: d.state.paused,
      spec: [...every, ...cron].join(', '),
      nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
      recentRuns: d.info.recentActions
        .slice(-3)
        .map((a) => `${a.takenAt.toISOString()} ${a.action.workflow.workflowId}`),
    });
  }
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

/** The schedules of a model that exist (drift-check first); none is an error naming the model. */
async function handlesOf(client: Client, modelId: string, kind?: ScheduleKind) {
  const kinds: ScheduleKind[] = kind ? [kind] : ['drift-check', 'retrain'];
  const handles = [];
  for (const k of kinds) {
    const handle = client.schedule.getHandle(scheduleId(modelId, k));
    try {
      await handle.describe();
      handles.push(handle);
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  if (handles.length === 0)
    throw new ScheduleNotFoundError(
      `no ${kind ?? 'drift-check or retrain'} schedule for model "${modelId}" (ct schedule list shows them)`,
      modelId,
    );
  return handles;
}

export async function pauseSchedules(
  client: Client,
  modelId: string,
  paused: boolean,
  note: string,
  kind?: ScheduleKind,
): Promise<string[]> {
  const handles = await handlesOf(client, modelId, kind);
  for (const h of handles) await (paused ? h.pause(note) : h.unpause(note));
  return handles.map((h) => h.scheduleId);
}

export async function deleteSchedules(client: Client, modelId: string, kind?: ScheduleKind): Promise<string[]> {
  const handles = await handlesOf(client, modelId, kind);
  for (const h of handles) await h.delete();
  return handles.map((h) => h.scheduleId);
}

/** Runs the schedule's actions for the times it would have fired in [start, end) (e.g. after an outage). */
export async function backfillSchedules(
  client: Client,
  modelId: string,
  start: Date,
  end: Date,
  kind: ScheduleKind = 'drift-check',
): Promise<string[]> {
  if (!(start < end))
    throw new InvalidInputError('backfill range', [
      `--from must be before --to (got ${start.toISOString()} … ${end.toISOString()})`,
    ]);
  const handles = await handlesOf(client, modelId, kind);
  for (const h of handles) await h.backfill({ start, end, overlap: 'BUFFER_ALL' }); // one after the other; the supervisor coalesces
  return handles.map((h) => h.scheduleId);
}
