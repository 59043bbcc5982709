// GPU idle: per worker slot, the share of the report's window with no training on it, from the attempt records.
// Pure; the host name a slot carries comes from the worker (adapters/gpuPool.ts).
import { z } from 'zod';
import type { AttemptRecord } from './attempts';

export const SlotIdle = z.object({
  slot: z.string().describe('the worker slot: <host>/gpu<ids> or <host>/cpu (older records: gpu<ids> or the device)'),
  kind: z.enum(['gpu', 'cpu']),
  attempts: z.number().int().describe('training attempts on this slot that overlap the window'),
  busySeconds: z.number().describe("union of the slot's attempt intervals, clipped to the window"),
  idleShare: z.number().describe('1 − busySeconds / window length'),
});
export type SlotIdle = z.infer<typeof SlotIdle>;

/** The name of the worker slot training on `gpus` of `host` (no GPUs: the worker's one CPU slot). */
export function slotName(host: string, gpus: string[]): string {
  return `${host}/${gpus.length ? `gpu${[...gpus].sort().join(',')}` : 'cpu'}`;
}

/** The slot an attempt trained on; records written before slots were recorded name their GPUs or device only. */
export function attemptSlot(a: AttemptRecord): string {
  if (a.slot) return a.slot;
  return a.gpus.length ? `gpu${[...a.gpus].sort().join(',')}` : (a.device ?? 'cpu');
}

/** Seconds covered by the union of `intervals` (epoch ms, [start, end]) within [from, to). */
export function busySeconds(intervals: [number, number][], from: number, to: number): number {
  const clipped = intervals
    .map(([s, e]): [number, number] => [Math.max(s, from), Math.min(e, to)])
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  let busy = 0;
  let end = -Infinity;
  for (const [s, e] of clipped) {
    if (e <= end) continue;
    busy += e - Math.max(s, end);
    end = e;
  }
  return busy / 1000;
}

/** Per slot seen in `attempts` within [since, until): its busy seconds and idle share, by slot name. */
export function slotIdle(attempts: AttemptRecord[], since: Date, until: Date): SlotIdle[] {
  const from = since.getTime();
  const to = until.getTime();
  const bySlot = new Map<string, { kind: 'gpu' | 'cpu'; intervals: [number, number][] }>();
  for (const a of attempts) {
    const interval: [number, number] = [Date.parse(a.startedAt), Date.parse(a.endedAt)];
    if (interval[1] < from || interval[0] >= to) continue;
    const slot = attemptSlot(a);
    const entry = bySlot.get(slot) ?? { kind: a.deviceSecondsKind, intervals: [] };
    entry.intervals.push(interval);
    bySlot.set(slot, entry);
  }
  const windowSeconds = (to - from) / 1000;
  return [...bySlot]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([slot, { kind, intervals }]) => {
      const busy = busySeconds(intervals, from, to);
      return { slot, kind, attempts: intervals.length, busySeconds: busy, idleShare: 1 - busy / windowSeconds };
    });
}
