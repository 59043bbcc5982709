// What a run's history says about the activities it ran, regular and local alike (a local activity leaves no
// scheduled event, only a marker that core writes as plain JSON when it resolves).
import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;

/** One activity the run ran: its type, the attempt that resolved it (local) or started (regular), and how it ran. */
export interface ActivityRun {
  type: string;
  attempt: number;
  local: boolean;
}

function markerData(e: temporal.api.history.v1.IHistoryEvent): { activity_type?: string; attempt?: number } | null {
  const m = e.markerRecordedEventAttributes;
  if (m?.markerName !== 'core_local_activity') return null;
  const data = m.details?.['data']?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string; attempt?: number }) : null;
}

/** Every activity of the run in history order: regular ones by their started attempts, local ones by their markers. */
export function activityRuns(history: History): ActivityRun[] {
  const scheduled = new Map<string, string>();
  const runs: ActivityRun[] = [];
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
    const started = e.activityTaskStartedEventAttributes;
    if (started)
      runs.push({
        type: scheduled.get(String(started.scheduledEventId)) ?? '',
        attempt: started.attempt ?? 1,
        local: false,
      });
    const local = markerData(e);
    if (local) runs.push({ type: local.activity_type ?? '', attempt: local.attempt ?? 1, local: true });
  }
  return runs;
}
