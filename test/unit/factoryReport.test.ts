// The factory report's arithmetic: run facts read from recorded histories, and scrap, throughput and cycle time
// computed from runs whose outcomes and attempts are known.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { AttemptRecord } from '../../core/attempts';
import {
  factoryReport,
  isoWeek,
  percentiles,
  REPORT_VERSION,
  runScrap,
  type ReportRun,
} from '../../core/factoryReport';
import { busySeconds, slotIdle, slotName } from '../../core/gpuIdle';
import { cycleTimeRows, reportCharts, throughputRows } from '../../core/reportCharts';
import { assertWritable, escapeHtml, reportHtml, writeHtmlFile } from '../../cli/reportHtml';
import { runFactsFromHistory, type HistoryJson, type RunFacts } from '../../core/runFacts';
import { projectRoot } from '../../stack/paths';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { AesGcmPayloadCodec, decodePayloadsIn } from '../../adapters/payloadCodec';
import { TEST_CODEC_KEYS } from '../helpers/codec';

/** A recorded history, decrypted with the test key (as `ct report` decrypts what it fetches). */
const history = async (name: string) => {
  const text = readFileSync(path.join(projectRoot, 'test', 'histories', `${name}.json`), 'utf8');
  const decoded = await decodePayloadsIn(historyFromJSON(JSON.parse(text)), new AesGcmPayloadCodec(TEST_CODEC_KEYS));
  return JSON.parse(historyToJSON(decoded)) as HistoryJson;
};
const facts = async (name: string) =>
  runFactsFromHistory(await history(name), { workflowId: name, runId: name }, new Date());

const attempt = (a: Partial<AttemptRecord> & Pick<AttemptRecord, 'attempt' | 'outcome'>): AttemptRecord => ({
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:01:40.000Z',
  wallSeconds: 100,
  device: 'cuda:0',
  gpus: ['0'],
  deviceSeconds: 100,
  deviceSecondsKind: 'gpu',
  resumedFromStep: 0,
  lastStep: 100,
  samplesProcessed: 0,
  resumedFrom: null,
  skippedCheckpoints: [],
  lastCheckpoint: null,
  message: '',
  reconstructed: false,
  ...a,
});
const run = (end: RunFacts['end'], attempts: AttemptRecord[], over: Partial<RunFacts> = {}): ReportRun => ({
  facts: {
    modelId: 'm',
    workflowId: `w-${end}`,
    runId: `r-${end}`,
    startedAt: '2026-01-01T00:00:00.000Z',
    closedAt: '2026-01-01T01:00:00.000Z',
    end,
    stoppedIn: null,
    stageSeconds: {},
    trainScheduledAt: null,
    trainTaskQueue: 'ct-gpu',
    ...over,
  },
  attempts,
});

describe('run facts from recorded histories', () => {
  it('a promoted run: its model, its end, and stage seconds that add up to its wall time', async () => {
    const f = await facts('pipeline-promoted');
    assert.equal(f.modelId, 'flight-delay');
    assert.equal(f.end, 'promoted');
    const wall = (Date.parse(f.closedAt!) - Date.parse(f.startedAt)) / 1000;
    const staged = Object.values(f.stageSeconds).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(wall - staged) < 0.5, `wall ${wall} s, stages ${staged} s`);
    assert.ok(f.stageSeconds.train! > 1, `train ${f.stageSeconds.train}`);
    assert.ok(f.trainScheduledAt && Date.parse(f.trainScheduledAt) > Date.parse(f.startedAt));
  });

  it('a rejection by timeout, and approval waits measured in workflow time', async () => {
    const f = await facts('pipeline-approval-deadlines');
    assert.equal(f.end, 'rejected-by-timeout');
    assert.ok(Math.abs(f.stageSeconds.approval! - 86_400) < 5, `approval ${f.stageSeconds.approval}`);
  });

  it('a re-gated run counts both evaluations under its stages', async () => {
    const f = await facts('pipeline-regate');
    assert.equal(f.end, 'promoted');
    assert.ok(f.stageSeconds.approval! > 1);
  });

  it('a run still open ends its current stage now', async () => {
    const h = await history('pipeline-manual-approval');
    const open = { events: h.events!.filter((e) => e.eventType !== 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED') };
    const f = runFactsFromHistory(open, { workflowId: 'w', runId: 'r' }, new Date(Date.now() + 1000));
    assert.equal(f.end, 'running');
    assert.equal(f.closedAt, null);
  });
});

describe('scrap', () => {
  it('of a sweep: every trial but the winner is sweep-trial scrap; the winner is one chain of rungs', () => {
    const trial = (name: string, rung: number, a: Parameters<typeof attempt>[0]) =>
      attempt({ ...a, trial: { name, rung } });
    const attempts = [
      trial('t1', 0, { attempt: 1, outcome: 'rung-reached', deviceSeconds: 10, lastStep: 10 }),
      trial('t2', 0, { attempt: 1, outcome: 'rung-reached', deviceSeconds: 10, lastStep: 10 }),
      trial('t1', 1, { attempt: 1, outcome: 'crashed', deviceSeconds: 5, resumedFromStep: 10, lastStep: 20 }),
      trial('t1', 1, { attempt: 2, outcome: 'rung-reached', deviceSeconds: 20, resumedFromStep: 10, lastStep: 30 }),
      trial('t1', 2, { attempt: 1, outcome: 'succeeded', deviceSeconds: 60, resumedFromStep: 30, lastStep: 90 }),
    ];
    const promoted = runScrap(run('promoted', attempts, { sweepWinner: 't1' }));
    assert.equal(promoted.byCause['sweep-trial'], 10, "the stopped trial's rung");
    assert.equal(promoted.byCause.crashed, 5, 'the crash in rung 1, nothing after its resume point kept');
    assert.equal(promoted.byCause.preempted, undefined, 'reaching a rung is not a preemption');
    assert.equal(promoted.stepsRedone, 10);
    assert.deepEqual(runScrap(run('rejected-by-gate', attempts, { sweepWinner: 't1' })).byCause, {
      'rejected-by-gate': 105,
    });
  });

  it('a promoted run that crashed at step 60 and resumed from step 50 scraps the 10 lost steps of the crash', () => {
    const s = runScrap(
      run('promoted', [
        attempt({ attempt: 1, outcome: 'crashed', lastStep: 60, deviceSeconds: 60 }),
        attempt({ attempt: 2, outcome: 'succeeded', resumedFromStep: 50, lastStep: 100, deviceSeconds: 50 }),
      ]),
    );
    assert.deepEqual(s, { byCause: { crashed: 10 }, stepsRedone: 10 });
  });

  it("charges the time after the kept checkpoint when it is the attempt's newest, unreported work included", () => {
    // 100 s attempt (00:00:00 → 00:01:40) on 2 GPUs; the step-50 checkpoint was written at 00:01:10 and its last
    // progress report was step 50 too: 30 s of wall time, 60 GPU-seconds, were lost though no step was reported.
    const crashed = attempt({
      attempt: 1,
      outcome: 'crashed',
      lastStep: 50,
      gpus: ['0', '1'],
      deviceSeconds: 200,
      lastCheckpoint: { step: 50, writtenAt: '2026-01-01T00:01:10.000Z' },
    });
    const resumed = attempt({ attempt: 2, outcome: 'succeeded', resumedFromStep: 50, lastStep: 100 });
    assert.deepEqual(runScrap(run('promoted', [crashed, resumed])), { byCause: { crashed: 60 }, stepsRedone: 0 });
    // Resumed from an older checkpoint (the newest was corrupt): the step share, as without a checkpoint time.
    const older = attempt({ ...resumed, resumedFromStep: 25 });
    assert.deepEqual(runScrap(run('promoted', [{ ...crashed, lastStep: 60 }, older])), {
      byCause: { crashed: 200 * (35 / 60) },
      stepsRedone: 35,
    });
  });

  it('an attempt that made no progress, or that nothing resumed from, is all scrap', () => {
    const s = runScrap(
      run('promoted', [
        attempt({ attempt: 1, outcome: 'stalled', lastStep: 0, deviceSeconds: 30 }),
        attempt({ attempt: 2, outcome: 'lost', lastStep: 40, deviceSeconds: 40 }),
        attempt({ attempt: 3, outcome: 'succeeded', lastStep: 100, deviceSeconds: 100 }),
      ]),
    );
    assert.deepEqual(s, { byCause: { stalled: 30, lost: 40 }, stepsRedone: 40 });
  });

  it('a run that ended without a promoted model scraps all its compute under how it ended', () => {
    const two = [
      attempt({ attempt: 1, outcome: 'crashed', deviceSeconds: 20 }),
      attempt({ attempt: 2, outcome: 'succeeded', deviceSeconds: 80 }),
    ];
    assert.deepEqual(runScrap(run('rejected-by-gate', two)).byCause, { 'rejected-by-gate': 100 });
    assert.deepEqual(runScrap(run('terminated', two)).byCause, { cancelled: 100 });
    assert.deepEqual(runScrap(run('failed', [])).byCause, {}, 'a validation failure burnt nothing');
    assert.deepEqual(runScrap(run('running', two)).byCause, {}, 'an open run is not scrap yet');
  });
});

describe('factory report', () => {
  const runs = [
    run('promoted', [attempt({ attempt: 1, outcome: 'succeeded', deviceSeconds: 100 })], {
      closedAt: '2026-01-01T00:10:00.000Z',
      stageSeconds: { train: 100, approval: 30 },
      trainScheduledAt: '2025-12-31T23:59:50.000Z',
    }),
    run('rejected-by-gate', [
      attempt({ attempt: 1, outcome: 'succeeded', deviceSeconds: 50, deviceSecondsKind: 'cpu' }),
    ]),
    run('failed', [], { stoppedIn: 'validate' }),
    run('promoted', [], { modelId: 'other', startedAt: '2027-01-01T00:00:00.000Z' }), // outside the window
  ];
  const report = factoryReport(runs, {
    since: new Date('2026-01-01T00:00:00Z'),
    until: new Date('2026-02-01T00:00:00Z'),
    prices: { gpuHour: 3.6, cpuHour: 0.36, currency: 'USD', byTaskQueue: {} },
  });

  it('counts the runs in the window by how they ended, and promotions per day', () => {
    assert.equal(report.fleet.throughput.runs, 3);
    assert.equal(report.fleet.throughput.byEnd.promoted, 1);
    assert.equal(report.fleet.throughput.byEnd['rejected-by-gate'], 1);
    assert.equal(report.fleet.throughput.byEnd.failed, 1);
    assert.deepEqual(report.fleet.throughput.promotedPerDay, { '2026-01-01': 1 });
    assert.deepEqual(report.fleet.throughput.endedPerDay, {
      '2026-01-01': { promoted: 1, 'rejected-by-gate': 1, failed: 1 },
    });
    assert.equal(report.reportVersion, REPORT_VERSION);
    assert.deepEqual(Object.keys(report.models), ['m']);
  });

  it('measures cycle time, the GPU queue wait and the approval wait', () => {
    assert.deepEqual(report.fleet.cycleTime.triggerToPromotedSeconds, { count: 1, p50: 600, p90: 600, max: 600 });
    assert.equal(report.fleet.cycleTime.gpuQueueSeconds.p50, 10);
    assert.equal(report.fleet.cycleTime.approvalWaitSeconds.p50, 30);
  });

  it('prices compute, and scrap at its share', () => {
    assert.equal(report.fleet.compute.gpuSeconds, 100);
    assert.equal(report.fleet.compute.cpuSeconds, 50);
    assert.equal(report.fleet.scrap.deviceSeconds, 50);
    assert.ok(Math.abs(report.fleet.scrap.share! - 1 / 3) < 1e-12);
    assert.ok(Math.abs(report.fleet.cost.total - 0.105) < 1e-12, `total ${report.fleet.cost.total}`);
    assert.ok(Math.abs(report.fleet.cost.perPromotedModel! - 0.105) < 1e-12);
    // The scrap is the rejected run's 50 CPU-seconds, priced as CPU: 50 / 3600 × 0.36.
    assert.ok(Math.abs(report.fleet.cost.scrap - 0.005) < 1e-12, `scrap ${report.fleet.cost.scrap}`);
    // One model over a 31-day window.
    assert.ok(Math.abs(report.fleet.cost.perModelPerMonth! - 0.105 / (31 / 30)) < 1e-12);
    assert.equal(report.fleet.scrapAvoided.stoppedBeforeTraining, 1);
  });

  it("prices a worker pool's compute at its own prices", () => {
    const pooled = factoryReport(runs, {
      since: new Date('2026-01-01T00:00:00Z'),
      until: new Date('2026-02-01T00:00:00Z'),
      prices: { gpuHour: 3.6, cpuHour: 0.36, currency: 'USD', byTaskQueue: { 'ct-gpu': { gpuHour: 36 } } },
    });
    // The promoted run's 100 GPU-seconds at 36/h, the rejected run's 50 CPU-seconds still at 0.36/h.
    assert.ok(Math.abs(pooled.fleet.cost.total - (1 + 0.005)) < 1e-12, `total ${pooled.fleet.cost.total}`);
    assert.ok(Math.abs(pooled.fleet.cost.scrap - 0.005) < 1e-12);
  });

  it('counts promotions per ISO week', () => {
    assert.deepEqual(report.fleet.throughput.promotedPerWeek, { '2026-W01': 1 });
    assert.equal(isoWeek('2026-12-02T01:00:00Z'), '2026-W49');
    assert.equal(isoWeek('2024-12-30T00:00:00Z'), '2025-W01');
    assert.equal(isoWeek('2021-01-03T23:59:59Z'), '2020-W53');
  });

  it('percentiles are nearest-rank', () => {
    assert.deepEqual(percentiles([5, 1, 4, 2, 3]), { count: 5, p50: 3, p90: 5, max: 5 });
    assert.deepEqual(percentiles([]), { count: 0, p50: null, p90: null, max: null });
  });
});

describe('GPU idle per worker slot', () => {
  const t = (minute: number) => Date.parse('2026-01-01T00:00:00Z') + minute * 60_000;
  const from = t(0);
  const to = t(60);

  it('busy time is the union of the intervals: overlaps and nested ones count once', () => {
    assert.equal(busySeconds([], from, to), 0);
    assert.equal(busySeconds([[t(10), t(20)]], from, to), 600);
    assert.equal(
      busySeconds(
        [
          [t(10), t(20)],
          [t(15), t(25)],
        ],
        from,
        to,
      ),
      900,
      'overlapping',
    );
    assert.equal(
      busySeconds(
        [
          [t(10), t(40)],
          [t(15), t(20)],
        ],
        from,
        to,
      ),
      1800,
      'nested',
    );
    assert.equal(
      busySeconds(
        [
          [t(30), t(35)],
          [t(10), t(20)],
          [t(20), t(30)],
        ],
        from,
        to,
      ),
      1500,
      'touching, unsorted',
    );
  });

  it('busy time is clipped to the window; intervals outside it count nothing', () => {
    assert.equal(busySeconds([[t(-10), t(5)]], from, to), 300);
    assert.equal(busySeconds([[t(55), t(70)]], from, to), 300);
    assert.equal(busySeconds([[t(-10), t(70)]], from, to), 3600);
    assert.equal(
      busySeconds(
        [
          [t(-20), t(-10)],
          [t(61), t(62)],
        ],
        from,
        to,
      ),
      0,
    );
  });

  it('lists each slot seen in the window with its idle share, and no slot whose attempts are all outside it', () => {
    const at = (slot: string | undefined, start: number, end: number, gpus = ['0']) =>
      attempt({
        attempt: 1,
        outcome: 'succeeded',
        ...(slot ? { slot } : {}),
        gpus,
        startedAt: new Date(t(start)).toISOString(),
        endedAt: new Date(t(end)).toISOString(),
      });
    const idle = slotIdle(
      [
        at(slotName('h1', ['0']), 0, 30),
        at(slotName('h1', ['0']), 15, 45),
        at(slotName('h1', []), 50, 80, []),
        at(undefined, 0, 6, ['1']),
        at(slotName('h2', ['0']), 70, 80),
      ],
      new Date(from),
      new Date(to),
    );
    assert.deepEqual(
      idle.map((s) => [s.slot, s.attempts, s.busySeconds]),
      [
        ['gpu1', 1, 360],
        ['h1/cpu', 1, 600],
        ['h1/gpu0', 2, 2700],
      ],
    );
    assert.ok(Math.abs(idle[2]!.idleShare - 0.25) < 1e-12);
    assert.ok(Math.abs(idle[0]!.idleShare - 0.9) < 1e-12);
  });
});

describe('the report page', () => {
  const runs: ReportRun[] = [
    run('promoted', [attempt({ attempt: 1, outcome: 'succeeded', slot: 'host<1>/gpu0' })], {
      stageSeconds: { validate: 2, train: 100, approval: 30 },
      trainScheduledAt: '2025-12-31T23:59:50.000Z',
    }),
    run('cancelled', [attempt({ attempt: 1, outcome: 'cancelled', deviceSeconds: 40 })], { modelId: 'other' }),
  ];
  const report = factoryReport(runs, {
    since: new Date('2026-01-01T00:00:00Z'),
    until: new Date('2026-01-02T00:00:00Z'),
    prices: { gpuHour: 2, cpuHour: 0.05, currency: 'USD', byTaskQueue: {} },
  });

  it('charts the stages and waits that happened, the scrap causes and the runs closed per day', () => {
    const parts = new Set(cycleTimeRows(report.fleet).map((r) => r.part));
    assert.deepEqual([...parts], ['validate', 'train', 'approval wait', 'GPU queue']);
    assert.deepEqual(throughputRows(report.fleet), [
      { day: '2026-01-01', end: 'promoted', runs: 1 },
      { day: '2026-01-01', end: 'cancelled', runs: 1 },
    ]);
    const charts = reportCharts(report.fleet);
    assert.deepEqual(
      charts.map((c) => [c.id, c.empty]),
      [
        ['cycle-time', null],
        ['scrap', null],
        ['throughput', null],
      ],
    );
  });

  it('renders each chart as inline SVG, escapes text, and fetches nothing', async () => {
    assert.equal(escapeHtml(`<a href="x">&'`), '&#60;a href=&#34;x&#34;&#62;&#38;&#39;');
    const html = await reportHtml(report);
    for (const id of ['cycle-time', 'scrap', 'throughput'])
      assert.match(html, new RegExp(`<figure id="chart-${id}"><figcaption>[^<]*</figcaption><svg `));
    assert.ok(html.includes('host&#60;1&#62;/gpu0') && !html.includes('host<1>'), 'the slot name is escaped');
    assert.doesNotMatch(html, /<script|<link|\b(src|href)=["']?https?:|url\(/i);
  });
});

describe('writing the page', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-report-html-'));

  it('replaces the file whole, and leaves no temporary file when it cannot', async () => {
    const file = path.join(dir, 'report.html');
    await writeHtmlFile(file, '<p>one</p>');
    await writeHtmlFile(file, '<p>two</p>');
    assert.equal(readFileSync(file, 'utf8'), '<p>two</p>');
    const folder = path.join(dir, 'taken');
    mkdirSync(folder);
    await assert.rejects(writeHtmlFile(folder, '<p>x</p>'), new RegExp(`^Error: cannot write --html ${folder}: `));
    assert.deepEqual(readdirSync(dir).sort(), ['report.html', 'taken']);
  });

  it('refuses a missing folder or a folder as the target before any work', async () => {
    await assertWritable(path.join(dir, 'report.html'));
    await assert.rejects(assertWritable(path.join(dir, 'nope', 'r.html')), /cannot write --html .*: no such folder/);
    await assert.rejects(assertWritable(dir), /cannot write --html .*: is a folder, not a file/);
  });
});
