// Our ct_* metrics: the definitions the README lists, the pure speed computation, what a training attempt records
// (on a recording meter), and where `ct dev` serves them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { TrainingMetrics } from '../../activities/training/trainingMetrics';
import { devMetrics } from '../../cli/localStack';
import type { AttemptRecord } from '../../core/attempts';
import { CT_METRICS, ctHistogramBuckets, ctMetrics, stepsPerSecond } from '../../core/ctMetrics';
import { InvalidInputError } from '../../core/parse';
import { projectRoot } from '../../stack/paths';

interface Recorded {
  kind: string;
  name: string;
  value: number;
  tags: MetricTags;
}

/** A meter that records every value it is given. */
function recordingMeter(): { meter: MetricMeter; recorded: Recorded[] } {
  const recorded: Recorded[] = [];
  const instrument = (kind: string, name: string) => {
    const put = (value: number, tags: MetricTags = {}) => recorded.push({ kind, name, value, tags });
    return { name, kind, valueType: 'float', add: put, set: put, record: put, withTags: () => instrument(kind, name) };
  };
  const meter = {
    createCounter: (name: string) => instrument('counter', name),
    createGauge: (name: string) => instrument('gauge', name),
    createHistogram: (name: string) => instrument('histogram', name),
    withTags: () => meter,
  } as unknown as MetricMeter;
  return { meter, recorded };
}

const attempt = (outcome: AttemptRecord['outcome'], deviceSeconds: number): AttemptRecord => ({
  attempt: 1,
  outcome,
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:01:00.000Z',
  wallSeconds: 60,
  device: 'cpu',
  gpus: [],
  deviceSeconds,
  deviceSecondsKind: 'cpu',
  resumedFromStep: 0,
  lastStep: 10,
  samplesProcessed: 100,
  resumedFrom: null,
  skippedCheckpoints: [],
  lastCheckpoint: null,
  message: '',
  reconstructed: false,
});

describe('ct_* metrics', () => {
  it('the README lists every metric with its type and tags', () => {
    const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    for (const d of Object.values(CT_METRICS)) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${d.name}\``));
      assert.ok(row, `README has a row for ${d.name}`);
      assert.ok(row.includes(d.kind), `${d.name} is a ${d.kind}`);
      for (const tag of d.tags) assert.ok(row.includes(`\`${tag}\``), `${d.name} row names tag ${tag}`);
    }
  });

  it('histograms in seconds get second buckets, not the SDK default milliseconds', () => {
    const buckets = ctHistogramBuckets();
    assert.deepEqual(Object.keys(buckets).sort(), ['ct_checkpoint_upload_seconds', 'ct_stage_duration_seconds']);
    assert.ok(buckets.ct_stage_duration_seconds!.includes(60));
  });

  it('steps per second between two progress reports, none across a resume or without time passing', () => {
    assert.equal(stepsPerSecond({ step: 10, atMs: 1_000 }, { step: 30, atMs: 3_000 }), 10);
    assert.equal(stepsPerSecond(null, { step: 30, atMs: 3_000 }), null);
    assert.equal(stepsPerSecond({ step: 30, atMs: 3_000 }, { step: 5, atMs: 4_000 }), null, 'resumed behind');
    assert.equal(stepsPerSecond({ step: 30, atMs: 3_000 }, { step: 40, atMs: 3_000 }), null);
  });

  it('a training attempt records its speed, its uploads, and its scrap by cause; the gauges drop to 0 at its end', () => {
    const { meter, recorded } = recordingMeter();
    const m = new TrainingMetrics(ctMetrics(meter), 'm1');
    m.progress(10, 500, 1_000);
    m.progress(20, 520, 2_000);
    m.checkpointStored({
      key: 'k',
      sha256: 's',
      step: 20,
      bytes: 4096,
      seconds: 0.25,
      writtenAt: '2026-01-01T00:00:30.000Z',
    });
    m.attemptEnded(attempt('crashed', 42.4));
    const byName = (name: string) => recorded.filter((r) => r.name === name).map((r) => [r.value, r.tags]);
    assert.deepEqual(byName('ct_training_samples_per_second'), [
      [500, { model: 'm1' }],
      [520, { model: 'm1' }],
      [0, { model: 'm1' }],
    ]);
    assert.deepEqual(byName('ct_training_steps_per_second'), [
      [10, { model: 'm1' }],
      [0, { model: 'm1' }],
    ]);
    assert.deepEqual(byName('ct_checkpoint_upload_seconds'), [[0.25, { model: 'm1' }]]);
    assert.deepEqual(byName('ct_checkpoint_upload_bytes'), [[4096, { model: 'm1' }]]);
    assert.deepEqual(byName('ct_scrap_seconds'), [[42, { model: 'm1', cause: 'crashed' }]]);
  });

  it('scraps nothing for a success or a config error; a lost attempt (recorded by the next) leaves the gauges', () => {
    const { meter, recorded } = recordingMeter();
    const m = new TrainingMetrics(ctMetrics(meter), 'm1');
    m.attemptEnded(attempt('succeeded', 100));
    m.attemptEnded(attempt('config-error', 3));
    assert.equal(recorded.filter((r) => r.name === 'ct_scrap_seconds').length, 0);
    recorded.length = 0;
    m.attemptEnded(attempt('lost', 30), false);
    assert.deepEqual(recorded, [
      { kind: 'counter', name: 'ct_scrap_seconds', value: 30, tags: { model: 'm1', cause: 'lost' } },
    ]);
  });

  it('ct dev serves the control worker on CT_METRICS_PORT (9464 by default) and the GPU worker on the next', () => {
    assert.deepEqual(devMetrics({}), {
      control: { host: '127.0.0.1', port: 9464 },
      gpu: { host: '127.0.0.1', port: 9465 },
    });
    assert.deepEqual(devMetrics({ CT_METRICS_PORT: '9100', CT_METRICS_HOST: '0.0.0.0' }).gpu, {
      host: '0.0.0.0',
      port: 9101,
    });
    assert.throws(
      () => devMetrics({ CT_METRICS_PORT: 'lots' }),
      (e: Error) => {
        assert.ok(e instanceof InvalidInputError);
        assert.match(e.message, /metrics\.port|port/);
        return true;
      },
    );
    assert.throws(() => devMetrics({ CT_METRICS_PORT: '65535' }), /GPU worker's port/);
  });
});
