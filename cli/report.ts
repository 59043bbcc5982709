// `ct report`: the factory report over a window of runs, read from Temporal (visibility and each run's history) and
// the attempt records in S3. The arithmetic is core/factoryReport.ts.
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import pLimit from 'p-limit';
import { readRegisteredConfig } from '../adapters/registryStore';
import { decodePayloadsIn } from '../adapters/payloadCodec';
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
        // Run facts read the input and result themselves: decrypt them with the client's codecs first.
        for (const codec of [...client.options.loadedDataConverter.payloadCodecs].reverse())
          await decodePayloadsIn(history, codec);
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

/** Seconds as a person reads them: s, min or h. */
export const secs = (s: number | null) =>
  s === null
    ? '—'
    : s >= 3600
      ? `${(s / 3600).toFixed(1)} h`
      : s >= 60
        ? `${(s / 60).toFixed(1)} min`
        : `${s.toFixed(1)} s`;

const money = (v: number | null) => (v === null ? '—' : v.toFixed(4));

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
    `  scrap avoided: ${s.scrapAvoided.stoppedBeforeTraining} run(s) stopped before training · ${s.scrapAvoided.reusedRuns} reused an identical training (${s.scrapAvoided.reusedGpuSeconds.toFixed(1)} GPU-s, ${s.scrapAvoided.reusedCpuSeconds.toFixed(1)} CPU-s not spent) · cost ${s.cost.total.toFixed(4)} ${currency}, scrap ${s.cost.scrap.toFixed(4)}, per promoted model ${money(s.cost.perPromotedModel)}, per model-month ${money(s.cost.perModelPerMonth)}`,
    `  promoted per ISO week: ${
      Object.entries(s.throughput.promotedPerWeek)
        .map(([w, n]) => `${w} ${n}`)
        .join(' · ') || '—'
    }`,
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

/** How a headline number reads: a count, seconds, a share of 1, or money in the report's currency. */
export type HeadlineUnit = 'count' | 'seconds' | 'share' | 'money';

const ends = (s: FactorySection, ...e: (keyof FactorySection['throughput']['byEnd'])[]) =>
  e.reduce((n, k) => n + s.throughput.byEnd[k], 0);

/** The headline numbers of a section (the fleet or a model): the CSV's columns and the HTML page's table. */
export const HEADLINE: {
  column: string;
  label: string;
  unit: HeadlineUnit;
  value: (s: FactorySection) => number | null;
}[] = [
  { column: 'runs', label: 'runs', unit: 'count', value: (s) => s.throughput.runs },
  { column: 'promoted', label: 'promoted', unit: 'count', value: (s) => ends(s, 'promoted') },
  {
    column: 'rejected_by_gate',
    label: 'rejected by gate',
    unit: 'count',
    value: (s) => ends(s, 'rejected-by-gate', 'superseded'),
  },
  {
    column: 'rejected_by_people',
    label: 'rejected by people',
    unit: 'count',
    value: (s) => ends(s, 'rejected-by-people'),
  },
  {
    column: 'rejected_by_timeout',
    label: 'rejected by timeout',
    unit: 'count',
    value: (s) => ends(s, 'rejected-by-timeout'),
  },
  { column: 'failed', label: 'failed', unit: 'count', value: (s) => ends(s, 'failed') },
  {
    column: 'cancelled',
    label: 'cancelled',
    unit: 'count',
    value: (s) => ends(s, 'cancelled', 'terminated', 'timed-out'),
  },
  {
    column: 'cycle_p50_s',
    label: 'cycle p50',
    unit: 'seconds',
    value: (s) => s.cycleTime.triggerToPromotedSeconds.p50,
  },
  {
    column: 'cycle_p90_s',
    label: 'cycle p90',
    unit: 'seconds',
    value: (s) => s.cycleTime.triggerToPromotedSeconds.p90,
  },
  {
    column: 'cycle_max_s',
    label: 'cycle max',
    unit: 'seconds',
    value: (s) => s.cycleTime.triggerToPromotedSeconds.max,
  },
  { column: 'device_s', label: 'compute', unit: 'seconds', value: (s) => s.compute.deviceSeconds },
  { column: 'scrap_s', label: 'scrap', unit: 'seconds', value: (s) => s.scrap.deviceSeconds },
  { column: 'scrap_share', label: 'scrap share', unit: 'share', value: (s) => s.scrap.share },
  { column: 'cost_total', label: 'cost', unit: 'money', value: (s) => s.cost.total },
  {
    column: 'cost_per_promoted',
    label: 'cost per promoted model',
    unit: 'money',
    value: (s) => s.cost.perPromotedModel,
  },
  {
    column: 'cost_per_model_month',
    label: 'cost per model-month',
    unit: 'money',
    value: (s) => s.cost.perModelPerMonth,
  },
];

/** One row per model (and the fleet): the headline numbers; then one row per worker slot (model "(slot)"). */
export function reportCsv(r: FactoryReport): string {
  const slotCols = ['slot', 'slot_busy_s', 'slot_idle_share'];
  const row = (name: string, s: FactorySection) =>
    [name, ...HEADLINE.map((h) => h.value(s) ?? ''), ...slotCols.map(() => '')].map(cell).join(',');
  const slotRow = (g: FactoryReport['gpuIdle'][number]) =>
    ['(slot)', ...HEADLINE.map(() => ''), g.slot, g.busySeconds, g.idleShare].map(cell).join(',');
  return [
    ['model', ...HEADLINE.map((h) => h.column), ...slotCols].join(','),
    row('(fleet)', r.fleet),
    ...Object.entries(r.models).map(([m, s]) => row(m, s)),
    ...r.gpuIdle.map(slotRow),
  ].join('\n');
}
