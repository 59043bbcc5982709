// Timings read from workflow histories, for the benchmarks: a workflow's wall time, its activities' own time, its
// workflow tasks' schedule-to-start latencies, and where the rest of its time went.
import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
type Event = temporal.api.history.v1.IHistoryEvent;

/** An event's time in ms since the epoch, to the microsecond (tsToMs rounds to whole ms). */
export function eventMs(e: Event): number {
  const t = e.eventTime!;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

export interface WorkflowTimes {
  /** Workflow started → closed. */
  wallMs: number;
  /** Σ regular activities' started → closed (their own compute, retries included). */
  activityMs: number;
  activities: number;
  /** Local activities run (their markers; their time is inside workflow tasks). */
  localActivities: number;
  workflowTasks: number;
  /** Σ workflow task scheduled → started: waiting for a worker to take it. */
  taskQueueMs: number;
  /** Σ workflow task started → completed: the worker's processing, local activities included. */
  taskRunMs: number;
  /** Σ activity scheduled → started: waiting for a worker to take it. */
  activityQueueMs: number;
  /** Each workflow task's scheduled → started, in ms. */
  taskLatenciesMs: number[];
}

/** The timings of one closed workflow's history. */
export function workflowTimes(history: History): WorkflowTimes {
  const events = history.events ?? [];
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const at = (id: unknown) => eventMs(byId.get(Number(id))!);
  const times: WorkflowTimes = {
    wallMs: eventMs(events[events.length - 1]!) - eventMs(events[0]!),
    activityMs: 0,
    activities: 0,
    localActivities: 0,
    workflowTasks: 0,
    taskQueueMs: 0,
    taskRunMs: 0,
    activityQueueMs: 0,
    taskLatenciesMs: [],
  };
  for (const e of events) {
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (closed?.startedEventId) {
      times.activities++;
      times.activityMs += eventMs(e) - at(closed.startedEventId);
    }
    const activityStarted = e.activityTaskStartedEventAttributes;
    if (activityStarted) times.activityQueueMs += eventMs(e) - at(activityStarted.scheduledEventId);
    const taskStarted = e.workflowTaskStartedEventAttributes;
    if (taskStarted) {
      const latency = eventMs(e) - at(taskStarted.scheduledEventId);
      times.taskLatenciesMs.push(latency);
      times.taskQueueMs += latency;
    }
    const taskDone = e.workflowTaskCompletedEventAttributes ?? e.workflowTaskFailedEventAttributes;
    if (taskDone?.startedEventId) {
      times.workflowTasks++;
      times.taskRunMs += eventMs(e) - at(taskDone.startedEventId);
    }
    if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') times.localActivities++;
  }
  return times;
}

/** The nearest-rank percentile `p` (0–100) of `xs`. */
export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
