// `ct report`: the factory report over a window of runs, read from Temporal (visibility and each run's history) and
// the attempt records in S3. The arithmetic is core/factoryReport.ts.
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import pLimit from 'p-limit';
import { readRegisteredConfig } from '../adapters/registryStore';
import type { ObjectStore } from '../adapters/objectStore';
import type { AppConfig } from '../core/appConfig';
import { durationMs } from '../core/approvals';
import { AttemptRecord } from '../core/attempts';
import { factoryReport, type FactoryReport, type FactorySection, type ReportRun } from '../core/factoryReport';
import { keys } from '../core/keys';
import { ModelId } from '../core/modelConfig';
import { runFactsFromHistory, type HistoryJson } from '../core/runFacts';
import { UsageError } from './usage';

export interface ReportFlags {
  model?: string;
  since?: string;
  until?: string;
}

/** "30d", "12h" (that long before --until) or an ISO date. */
function instant(text: string, flag: string, before: Date): Date {
  if (/^\d+(\.\d+)?[smhd]$/.test(text)) return new Date(before.getTime() - durationMs(text));
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`${flag} "${text}" is neither a duration (30d, 12h) nor an ISO date`);
  return new Date(t);
}

function reportWindow(flags: ReportFlags, now = new Date()): { since: Date; until: Date } {
  const until = flags.until ? instant(flags.until, '--until', now) : now;
  const since = instant(flags.since ?? '30d', '--since', until);
  if (since.getTime() >= until.getTime())
    throw new UsageError(`--since (${since.toISOString()}) must be before --until (${until.toISOString()})`);
  return { since, until };
}

/** Every retrainingPipeline run started in the window (of one model), with its facts and attempt records, read
 * `concurrency` runs at a time. */
export async function collectRuns(
  client: Client,
  store: ObjectStore,
  window: { since: Date; until: Date },
  modelId?: string,
  concurrency = 16,
): Promise<ReportRun[]> {
  const query = [
    `WorkflowType = 'retrainingPipeline'`,
    `StartTime >= '${window.since.toISOString()}'`,
    `StartTime < '${window.until.toISOString()}'`,
    ...(modelId ? [`CtModel = '${modelId}'`] : []),
  ].join(' AND ');
  const ids: { workflowId: string; runId: string }[] = [];
  for await (const w of client.workflow.list({ query })) ids.push({ workflowId: w.workflowId, runId: w.runId });
  const limit = pLimit(concurrency);
  const now = new Date();
  return Promise.all(
    ids.map((id) =>
      limit(async () => {
        const history = await client.workflow.getHandle(id.workflowId, id.runId).fetchHistory();
        const facts = runFactsFromHistory(JSON.parse(historyToJSON(history)) as HistoryJson, id, now);
        const attemptKeys = await store.list(keys.attempts(facts.modelId, id.runId));
        const attempts = await Promise.all(attemptKeys.map(async (k) => AttemptRecord.parse(await store.getJson(k))));
        return { facts, attempts };
      }),
    ),
  );
}

/** The report, or a usage error for a model nobody registered or ran. */
export async function buildReport(
  client: Client,
  store: ObjectStore,
  config: AppConfig,
  flags: ReportFlags,
): Promise<FactoryReport> {
  const window = reportWindow(flags);
  if (flags.model !== undefined && !ModelId.safeParse(flags.model).success)
    throw new UsageError(`--model "${flags.model}" is not a model id`);
  const runs = await collectRuns(client, store, window, flags.model);
  if (flags.model && runs.length === 0 && !(await readRegisteredConfig(store, flags.model)))
    throw new UsageError(`unknown model "${flags.model}": no registered configuration and no runs`);
  return factoryReport(runs, { ...window, prices: config.prices });
}

const secs = (s: number | null) =>
  s === null
    ? '—'
    : s >= 3600
      ? `${(s / 3600).toFixed(1)} h`
      : s >= 60
        ? `${(s / 60).toFixed(1)} min`
        : `${s.toFixed(1)} s`;

function formatSection(name: string, s: FactorySection, currency: string): string[] {
  const ends = Object.entries(s.throughput.byEnd)
    .filter(([, n]) => n > 0)
    .map(([e, n]) => `${e} ${n}`)
    .join(' · ');
  const c = s.cycleTime.triggerToPromotedSeconds;
  const causes = Object.entries(s.scrap.byCause)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${secs(v)}`)
    .join(' · ');
  const stages = Object.entries(s.cycleTime.stageSeconds)
    .filter(([, p]) => p.count > 0)
    .map(([k, p]) => `${k} ${secs(p.p50)}`)
    .join(' · ');
  return [
    `${name}: ${s.throughput.runs} run(s) — ${ends || 'none'}`,
    `  cycle time trigger → promoted: p50 ${secs(c.p50)} · p90 ${secs(c.p90)} · max ${secs(c.max)} (${c.count} promoted)`,
    `  stage p50: ${stages || '—'}`,
    `  waits p50: GPU queue ${secs(s.cycleTime.gpuQueueSeconds.p50)} · approval ${secs(s.cycleTime.approvalWaitSeconds.p50)} · retry backoff ${secs(s.cycleTime.retryBackoffSeconds.p50)}`,
    `  compute ${secs(s.compute.deviceSeconds)} (GPU ${secs(s.compute.gpuSeconds)}, CPU ${secs(s.compute.cpuSeconds)}) · scrap ${secs(s.scrap.deviceSeconds)}${s.scrap.share === null ? '' : ` (${(100 * s.scrap.share).toFixed(1)}%)`}${causes ? `: ${causes}` : ''}${s.scrap.stepsRedone ? ` · ${s.scrap.stepsRedone} steps redone` : ''}`,
    `  scrap avoided: ${s.scrapAvoided.stoppedBeforeTraining} run(s) stopped before training · cost ${s.cost.total.toFixed(4)} ${currency}, scrap ${s.cost.scrap.toFixed(4)}, per promoted model ${s.cost.perPromotedModel === null ? '—' : s.cost.perPromotedModel.toFixed(4)}`,
  ];
}

export function formatReport(r: FactoryReport): string {
  const head = `factory report ${r.window.since} → ${r.window.until} (prices: ${r.prices.gpuHour} ${r.prices.currency}/GPU-h, ${r.prices.cpuHour}/CPU-h)`;
  if (r.fleet.throughput.runs === 0) return `${head}\nno runs in this window`;
  const models = Object.entries(r.models).flatMap(([m, s]) => formatSection(m, s, r.prices.currency));
  // One model: the fleet would say the same again.
  const fleet = Object.keys(r.models).length > 1 ? formatSection('fleet', r.fleet, r.prices.currency) : [];
  const idle = r.gpuIdle.map((g) => `${g.slot} ${(100 * g.idleShare).toFixed(1)}% (busy ${secs(g.busySeconds)})`);
  return [head, ...fleet, ...models, `idle per worker slot: ${idle.join(' · ') || '—'}`].join('\n');
}

/** A CSV cell: quoted when it holds a comma, a quote or a line break (RFC 4180). */
const cell = (v: string | number) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

/** One row per model (and the fleet): the headline numbers; then one row per worker slot (model "(slot)"). */
export function reportCsv(r: FactoryReport): string {
  const cols = [
    'model',
    'runs',
    'promoted',
    'rejected_by_gate',
    'rejected_by_people',
    'rejected_by_timeout',
    'failed',
    'cancelled',
    'cycle_p50_s',
    'cycle_p90_s',
    'device_s',
    'scrap_s',
    'scrap_share',
    'cost_total',
    'cost_per_promoted',
    'slot',
    'slot_busy_s',
    'slot_idle_share',
  ];
  const row = (name: string, s: FactorySection) =>
    [
      name,
      s.throughput.runs,
      s.throughput.byEnd.promoted,
      s.throughput.byEnd['rejected-by-gate'] + s.throughput.byEnd.superseded,
      s.throughput.byEnd['rejected-by-people'],
      s.throughput.byEnd['rejected-by-timeout'],
      s.throughput.byEnd.failed,
      s.throughput.byEnd.cancelled + s.throughput.byEnd.terminated + s.throughput.byEnd['timed-out'],
      s.cycleTime.triggerToPromotedSeconds.p50 ?? '',
      s.cycleTime.triggerToPromotedSeconds.p90 ?? '',
      s.compute.deviceSeconds,
      s.scrap.deviceSeconds,
      s.scrap.share ?? '',
      s.cost.total,
      s.cost.perPromotedModel ?? '',
      '',
      '',
      '',
    ]
      .map(cell)
      .join(',');
  const slotRow = (g: FactoryReport['gpuIdle'][number]) =>
    ['(slot)', ...Array<string>(cols.length - 4).fill(''), g.slot, g.busySeconds, g.idleShare].map(cell).join(',');
  return [
    cols.join(','),
    row('(fleet)', r.fleet),
    ...Object.entries(r.models).map(([m, s]) => row(m, s)),
    ...r.gpuIdle.map(slotRow),
  ].join('\n');
}
