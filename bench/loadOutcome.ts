// How bench/load.ts's fleet ended: the storm's runs (from visibility and their histories), the supervisors'
// history lengths, and the integrity checks — one run per incident, registry versions = promoted runs, nothing failed.
import type { Client, WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import pLimit from 'p-limit';
import type { ObjectStore } from '../adapters/objectStore';
import { listVersions } from '../adapters/registryStore';
import { supervisorStatus } from '../client/supervisor';
import { workflowIds } from '../core/keys';
import type { RunStatus } from '../core/runStatus';
import { eventMs, workflowTimes } from './histories';

export interface FleetRun {
  workflowId: string;
  modelId: string;
  startMs: number;
  closeMs: number | null;
  status: string;
  outcome: string | null;
  /** The training activity's attempts, started → closed, in ms since the epoch. */
  trainings: [number, number][];
  taskLatenciesMs: number[];
}

async function listAll(client: Client, query: string): Promise<WorkflowExecutionInfo[]> {
  const out: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query })) out.push(info);
  return out;
}

/** Each attempt of `activity` in a history: started → closed. */
function activityIntervals(history: temporal.api.history.v1.IHistory, activity: string): [number, number][] {
  const events = history.events ?? [];
  const scheduled = new Set<number>();
  const started = new Map<number, number>();
  const out: [number, number][] = [];
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === activity) scheduled.add(Number(e.eventId));
    const s = e.activityTaskStartedEventAttributes;
    if (s && scheduled.has(Number(s.scheduledEventId))) started.set(Number(s.scheduledEventId), eventMs(e));
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    const from = closed && started.get(Number(closed.scheduledEventId));
    if (from) out.push([from, eventMs(e)]);
  }
  return out;
}

/** Every retrainingPipeline run but `exceptWorkflowId`, with its outcome and timings. */
export async function fleetRuns(client: Client, exceptWorkflowId: string): Promise<FleetRun[]> {
  const infos = (await listAll(client, `WorkflowType = 'retrainingPipeline'`)).filter(
    (i) => i.workflowId !== exceptWorkflowId,
  );
  const limit = pLimit(8);
  return Promise.all(
    infos.map((info) =>
      limit(async () => {
        const handle = client.workflow.getHandle(info.workflowId, info.runId);
        const history = await handle.fetchHistory();
        const result = info.status.name === 'COMPLETED' ? ((await handle.result()) as RunStatus) : null;
        return {
          workflowId: info.workflowId,
          modelId: info.workflowId.split('/')[1] ?? '?',
          startMs: info.startTime.getTime(),
          closeMs: info.closeTime?.getTime() ?? null,
          status: info.status.name,
          outcome: result?.outcome ?? null,
          trainings: activityIntervals(history, 'trainModel'),
          taskLatenciesMs: workflowTimes(history).taskLatenciesMs,
        };
      }),
    ),
  );
}

/** The most intervals open at one moment. */
export function peakOverlap(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([a, b]) => [
    [a, 1],
    [b, -1],
  ]);
  edges.sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!); // a close before an open at the same instant
  let open = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (open += d!));
  return peak;
}

/** The supervisors' history lengths now (describe: visibility does not track a running workflow's), and how many
 * generations ended by continuing as new. */
export async function supervisorHistories(
  client: Client,
  models: string[],
): Promise<{ lengths: number[]; continuedAsNew: number }> {
  const limit = pLimit(16);
  const lengths = await Promise.all(
    models.map((m) =>
      limit(async () => (await client.workflow.getHandle(workflowIds.supervisor(m)).describe()).historyLength),
    ),
  );
  const { count } = await client.workflow.count(
    `WorkflowType = 'continuousTraining' AND ExecutionStatus = 'ContinuedAsNew'`,
  );
  return { lengths, continuedAsNew: count };
}

/** Each workflow task's schedule-to-start latency in a history, of the tasks scheduled at `sinceMs` or later. */
export function taskLatenciesSince(history: temporal.api.history.v1.IHistory, sinceMs: number): number[] {
  const events = history.events ?? [];
  const scheduledAt = new Map(
    events.filter((e) => e.workflowTaskScheduledEventAttributes).map((e) => [Number(e.eventId), eventMs(e)]),
  );
  return events.flatMap((e) => {
    const from = scheduledAt.get(Number(e.workflowTaskStartedEventAttributes?.scheduledEventId));
    return from !== undefined && from >= sinceMs ? [eventMs(e) - from] : [];
  });
}

/**
 * Exact task latencies since `sinceMs` from the histories of a sample: up to `checks` drift checks started since
 * then and the supervisors of `supervisors` (the runs' own are in {@link fleetRuns}).
 */
export async function sampledTaskLatencies(
  client: Client,
  sinceMs: number,
  checks: number,
  supervisors: string[],
): Promise<{ checks: number[][]; supervisors: number[][] }> {
  const supervisorHandles = supervisors.map((m) => client.workflow.getHandle(workflowIds.supervisor(m)));
  const checkHandles: WorkflowHandle[] = [];
  const query = `WorkflowType = 'driftCheck' AND StartTime >= '${new Date(sinceMs).toISOString()}'`;
  for await (const info of client.workflow.list({ query })) {
    if (checkHandles.length >= checks) break;
    checkHandles.push(client.workflow.getHandle(info.workflowId, info.runId));
  }
  const limit = pLimit(8);
  const latencies = (handles: WorkflowHandle[]) =>
    Promise.all(handles.map((h) => limit(async () => taskLatenciesSince(await h.fetchHistory(), sinceMs))));
  return { checks: await latencies(checkHandles), supervisors: await latencies(supervisorHandles) };
}

/** What went wrong with the fleet's work, as sentences; empty when nothing did. */
export async function integrityProblems(
  client: Client,
  store: ObjectStore,
  models: string[],
  storm: string[],
  runs: FleetRun[],
): Promise<string[]> {
  const problems: string[] = [];
  const stormSet = new Set(storm);
  const runsOf = new Map<string, FleetRun[]>();
  for (const r of runs) runsOf.set(r.modelId, [...(runsOf.get(r.modelId) ?? []), r]);
  const notOne = storm.filter((m) => runsOf.get(m)?.length !== 1);
  if (notOne.length)
    problems.push(
      `${notOne.length} storm model(s) without exactly one run: ${notOne
        .slice(0, 5)
        .map((m) => `${m} ${runsOf.get(m)?.length ?? 0}`)
        .join(', ')}`,
    );
  const strays = runs.filter((r) => !stormSet.has(r.modelId));
  if (strays.length)
    problems.push(`${strays.length} run(s) of models no alert was sent to, e.g. ${strays[0]!.workflowId}`);
  const notPromoted = runs.filter((r) => r.outcome !== 'promoted');
  if (notPromoted.length)
    problems.push(
      `${notPromoted.length} run(s) not promoted, e.g. ${notPromoted[0]!.workflowId} ${notPromoted[0]!.status} ${notPromoted[0]!.outcome}`,
    );

  // Every model has its champion (v1); each promotion adds exactly one version.
  const limit = pLimit(16);
  const versions = await Promise.all(models.map((m) => limit(() => listVersions(store, m))));
  const added = versions.reduce((sum, v) => sum + v.length - 1, 0);
  const promoted = runs.length - notPromoted.length;
  if (added !== promoted) problems.push(`registry: ${added} version(s) added but ${promoted} run(s) promoted`);

  // One incident per alert, and the supervisor knows its one run.
  const statuses = await Promise.all(storm.map((m) => limit(() => supervisorStatus(client, m))));
  const wrong = statuses.filter((s) => s.lastRuns.length !== 1);
  if (wrong.length) problems.push(`${wrong.length} storm supervisor(s) without exactly one run in their state`);

  for (const [type, what] of [
    ['driftCheck', 'drift check(s)'],
    ['continuousTraining', 'supervisor generation(s)'],
    ['retrainingPipeline', 'run(s)'],
  ]) {
    const { count } = await client.workflow.count(
      `WorkflowType = '${type}' AND ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut', 'Canceled')`,
    );
    if (count > 0) problems.push(`${count} ${what} failed, terminated, timed out or cancelled`);
  }
  return problems;
}
