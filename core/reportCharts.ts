// The factory report's charts as Vega-Lite specs: cycle time per stage, scrap by cause, throughput over time.
// Pure (report in, specs out); cli/reportHtml.ts renders them to SVG.
import type { TopLevelSpec } from 'vega-lite';
import type { FactorySection, Percentiles } from './factoryReport';
import { STAGES } from './runStatus';

export interface ReportChart {
  id: 'cycle-time' | 'scrap' | 'throughput';
  title: string;
  /** Said under the chart when it has nothing to draw. */
  empty: string | null;
  spec: TopLevelSpec;
}

const WIDTH = 560;

export interface CycleTimeRow {
  part: string;
  percentile: 'p50' | 'p90';
  seconds: number;
}

/** p50 and p90 seconds of each stage, and of the waits inside them, that some run went through. */
export function cycleTimeRows(s: FactorySection): CycleTimeRow[] {
  const c = s.cycleTime;
  const parts: [string, Percentiles | undefined][] = [
    ...STAGES.map((stage): [string, Percentiles | undefined] => [
      stage === 'approval' ? 'approval wait' : stage,
      c.stageSeconds[stage],
    ]),
    ['GPU queue', c.gpuQueueSeconds],
    ['retry backoff', c.retryBackoffSeconds],
  ];
  return parts.flatMap(([part, p]) =>
    p && p.count > 0
      ? (['p50', 'p90'] as const).map((percentile) => ({ part, percentile, seconds: p[percentile] ?? 0 }))
      : [],
  );
}

/** Scrap device-seconds of each cause that has any. */
export function scrapRows(s: FactorySection): { cause: string; seconds: number }[] {
  return Object.entries(s.scrap.byCause)
    .filter(([, seconds]) => seconds > 0)
    .map(([cause, seconds]) => ({ cause, seconds }));
}

/** Runs closed per UTC day, by how they ended. */
export function throughputRows(s: FactorySection): { day: string; end: string; runs: number }[] {
  return Object.entries(s.throughput.endedPerDay)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([day, ends]) => Object.entries(ends).map(([end, runs]) => ({ day, end, runs: runs ?? 0 })));
}

/** The three charts of a section (the fleet's, in the page). */
export function reportCharts(s: FactorySection): ReportChart[] {
  const cycle = cycleTimeRows(s);
  const scrap = scrapRows(s);
  const throughput = throughputRows(s);
  return [
    {
      id: 'cycle-time',
      title: 'Cycle time per stage (seconds, p50 and p90)',
      empty: cycle.length ? null : 'no stage timings in this window',
      spec: {
        width: WIDTH,
        data: { values: cycle },
        mark: 'bar',
        encoding: {
          y: {
            field: 'part',
            type: 'nominal',
            title: null,
            sort: [...new Set(cycle.map((r) => r.part))],
            axis: { labelLimit: 200 },
          },
          yOffset: { field: 'percentile', type: 'nominal' },
          x: { field: 'seconds', type: 'quantitative', title: 'seconds' },
          color: { field: 'percentile', type: 'nominal', title: 'percentile' },
        },
      },
    },
    {
      id: 'scrap',
      title: 'Scrap by cause (device-seconds)',
      empty: scrap.length ? null : 'no scrap in this window',
      spec: {
        width: WIDTH,
        data: { values: scrap },
        mark: 'bar',
        encoding: {
          y: { field: 'cause', type: 'nominal', title: null, sort: '-x' },
          x: { field: 'seconds', type: 'quantitative', title: 'device-seconds' },
          color: { field: 'cause', type: 'nominal', legend: null },
        },
      },
    },
    {
      id: 'throughput',
      title: 'Throughput: runs closed per day, by how they ended',
      empty: throughput.length ? null : 'no run closed in this window',
      spec: {
        width: WIDTH,
        height: 200,
        data: { values: throughput },
        mark: 'bar',
        encoding: {
          x: { field: 'day', type: 'ordinal', title: 'UTC day', axis: { labelAngle: -45 } },
          y: { field: 'runs', type: 'quantitative', title: 'runs', axis: { tickMinStep: 1 } },
          color: { field: 'end', type: 'nominal', title: 'ended' },
        },
      },
    },
  ];
}
