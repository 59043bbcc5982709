// What the factory report needs to know of one retrainingPipeline run, read from its history (proto JSON, as
// historyToJSON and the Temporal CLI write it): how it ended, when, and how long each stage took. Pure.
import { z } from 'zod';
import type { ReusedTraining } from './experiments';
import { RunStatus, type Stage } from './runStatus';

/** How a run ended, as the report counts it. */
export const RunEnd = z.enum([
  'promoted',
  'rejected-by-gate',
  'superseded',
  'rejected-by-people',
  'rejected-by-timeout',
  'failed',
  'cancelled',
  'terminated',
  'timed-out',
  'running',
]);
export type RunEnd = z.infer<typeof RunEnd>;

export interface RunFacts {
  modelId: string;
  workflowId: string;
  runId: string;
  startedAt: string;
  closedAt: string | null;
  end: RunEnd;
  /** The stage a failed, cancelled or terminated run stopped in; null for the others. */
  stoppedIn: Stage | null;
  /** Seconds in each stage (a stage entered twice, e.g. a second gate, sums). */
  stageSeconds: Partial<Record<Stage, number>>;
  /** When the training activity was first scheduled (its GPU queue wait starts there). */
  trainScheduledAt: string | null;
  /** The task queue (worker pool) training was scheduled on: it selects the prices of its compute. */
  trainTaskQueue: string | null;
  /** The earlier training a finished run reused instead of training (experiment memory). */
  reused?: ReusedTraining | null;
  /** The sweep trial whose model went on (README "Sweeps"); null without a sweep. */
  sweepWinner?: string | null;
}

interface Payload {
  data?: string;
}
interface HistoryEvent {
  eventTime?: string;
  eventType?: string;
  workflowExecutionStartedEventAttributes?: { input?: { payloads?: Payload[] } };
  workflowExecutionCompletedEventAttributes?: { result?: { payloads?: Payload[] } };
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string }; taskQueue?: { name?: string } };
  upsertWorkflowSearchAttributesEventAttributes?: { searchAttributes?: { indexedFields?: Record<string, Payload> } };
}
export interface HistoryJson {
  events?: HistoryEvent[];
}

const decode = (p: Payload | undefined): unknown =>
  p?.data === undefined ? undefined : JSON.parse(new TextDecoder().decode(base64(p.data)));
function base64(text: string): Uint8Array {
  const bin = atob(text);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

const CLOSED: Record<string, RunEnd> = {
  EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: 'failed',
  EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: 'cancelled',
  EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: 'terminated',
  EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: 'timed-out',
};

/** How a completed run's status ends: rejections split by who rejected; a second gate that failed is superseded. */
function endOf(status: RunStatus): RunEnd {
  const gates = status.timings.filter((t) => t.stage === 'gate').length;
  switch (status.outcome) {
    case 'promoted':
      return 'promoted';
    case 'rejected-by-gate':
      // Gated again because another run promoted a newer champion meanwhile, and no longer better: superseded.
      return gates > 1 ? 'superseded' : 'rejected-by-gate';
    case 'rejected':
      return status.decision?.mode === 'timeout' ? 'rejected-by-timeout' : 'rejected-by-people';
    case 'failed':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
    default:
      return 'running';
  }
}

/** The facts of one run from its history; `now` closes the last stage of a run still open. */
export function runFactsFromHistory(
  history: HistoryJson,
  ids: { workflowId: string; runId: string },
  now: Date,
): RunFacts {
  const events = history.events ?? [];
  const first = events[0];
  const input = decode(first?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]) as
    { modelId?: string } | undefined;
  const last = events[events.length - 1];
  const completed = last?.workflowExecutionCompletedEventAttributes;
  const closedEnd = last?.eventType ? CLOSED[last.eventType] : undefined;
  const closed = completed !== undefined || closedEnd !== undefined;
  const result = completed ? RunStatus.parse(decode(completed.result?.payloads?.[0])) : null;
  const end = result ? endOf(result) : (closedEnd ?? 'running');

  // Stages from the CtStage upserts: each lasts until the next one (or the close, or now).
  const stages: { stage: Stage; at: number }[] = [];
  let trainScheduledAt: string | null = null;
  let trainTaskQueue: string | null = null;
  for (const e of events) {
    const field = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.CtStage;
    const value = decode(field);
    const stage = (Array.isArray(value) ? value[0] : value) as Stage | undefined;
    if (stage && e.eventTime) stages.push({ stage, at: Date.parse(e.eventTime) });
    if (
      trainScheduledAt === null &&
      e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainModel' &&
      e.eventTime
    ) {
      trainScheduledAt = e.eventTime;
      trainTaskQueue = e.activityTaskScheduledEventAttributes.taskQueue?.name ?? null;
    }
  }
  const endAt = closed && last?.eventTime ? Date.parse(last.eventTime) : now.getTime();
  const stageSeconds: Partial<Record<Stage, number>> = {};
  stages.forEach(({ stage, at }, i) => {
    if (stage === 'done') return;
    const until = stages[i + 1]?.at ?? endAt;
    stageSeconds[stage] = (stageSeconds[stage] ?? 0) + (until - at) / 1000;
  });
  const lastStage = stages[stages.length - 1]?.stage ?? null;
  return {
    modelId: input?.modelId ?? 'unknown',
    ...ids,
    startedAt: first?.eventTime ?? now.toISOString(),
    closedAt: closed ? (last?.eventTime ?? null) : null,
    end,
    stoppedIn: ['failed', 'cancelled', 'terminated', 'timed-out'].includes(end) ? lastStage : null,
    stageSeconds,
    trainScheduledAt,
    trainTaskQueue,
    reused: result?.reused ?? null,
    sweepWinner: result?.sweep?.winner ?? null,
  };
}
