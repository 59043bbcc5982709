// `ct drift` end to end: the real CLI on small Parquet and CSV files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { writeParquet } from '../../adapters/datasetFiles';
import { seededRandom } from '../../core/split';

const root = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'ct-drift-'));

function ct(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'drift', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CT_S3_BUCKET: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function data(n: number, seed: number, shift: number) {
  const r = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return {
    date: Array.from(
      { length: n },
      () => Date.UTC(2001, 0, 1) + Math.floor(r() * 30 * 86_400_000) + shift * 15 * 86_400_000,
    ),
    distance: Array.from({ length: n }, () => Math.round(800 + 300 * gauss() + shift * 400)),
    origin: Array.from({ length: n }, () => ['ATL', 'ORD', 'DFW', 'LAX'][Math.floor(4 * r() ** (1 + shift))]!),
    delay: Array.from({ length: n }, () => Math.round(10 * gauss())),
  };
}

function writeBoth(name: string, n: number, seed: number, shift: number): void {
  const d = data(n, seed, shift);
  writeFileSync(
    path.join(dir, `${name}.parquet`),
    writeParquet([
      { name: 'date', type: 'TIMESTAMP', data: d.date },
      { name: 'delay', type: 'INT32', data: d.delay },
      { name: 'distance', type: 'INT32', data: d.distance },
      { name: 'origin', type: 'STRING', data: d.origin },
    ]),
  );
  const iso = (t: number) => new Date(t).toISOString().replace('Z', '');
  writeFileSync(
    path.join(dir, `${name}.csv`),
    `date,delay,distance,origin\n${d.date.map((t, i) => `${iso(t)},${d.delay[i]},${d.distance[i]},${d.origin[i]}`).join('\n')}\n`,
  );
}

writeBoth('reference', 4000, 1, 0);
writeBoth('same', 3000, 2, 0);
writeBoth('shifted', 3000, 3, 1);
writeFileSync(path.join(dir, 'empty.csv'), 'date,delay,distance,origin\n');
writeFileSync(path.join(dir, 'other.csv'), 'a,b\n1,x\n2,y\n');
writeFileSync(path.join(dir, 'columnless.parquet'), writeParquet([]));
/** same.csv with the distance of some rows (1-based data rows) replaced. */
function editDistance(name: string, cells: Record<number, string>): void {
  const lines = readFileSync(path.join(dir, 'same.csv'), 'utf8').split('\n');
  for (const [row, cell] of Object.entries(cells))
    lines[Number(row)] = lines[Number(row)]!.replace(/^([^,]*,[^,]*,)[^,]*/, `$1${cell}`);
  writeFileSync(path.join(dir, name), lines.join('\n'));
}
editDistance('words.csv', { 1: 'abc', 2: 'abc', 3: 'twelve', 4: '' });
editDistance('infinite.csv', { 1: 'Infinity', 2: '-inf', 3: 'NaN' });
const model = path.join(dir, 'model.yaml');
writeFileSync(
  model,
  `modelId: t
dataset:
  format: parquet
  timeColumn: date
  columns: { date: { type: timestamp }, delay: { type: integer }, distance: { type: integer }, origin: { type: string } }
features:
  - { name: weekday, type: categorical, source: date, transform: dayOfWeek }
  - { name: distance, type: numeric, source: distance }
  - { name: origin, type: categorical, source: origin }
label: { source: delay, positiveWhen: { op: ">", value: 15 } }
trainer: { command: ["true"] }
drift:
  features: { distance: { method: ks } }
`,
);
const f = (name: string) => path.join(dir, name);

describe('ct drift', () => {
  it('same distribution → exit 0; a shifted window → exit 3 with the drifted features (Parquet, no model)', () => {
    const same = ct('--reference', f('reference.parquet'), '--current', f('same.parquet'));
    assert.equal(same.status, 0, same.stderr + same.stdout);
    assert.match(same.stdout, /no dataset drift: 0 of 4 features drifted/);
    const shifted = ct('--reference', f('reference.parquet'), '--current', f('shifted.parquet'));
    assert.equal(shifted.status, 3, shifted.stderr + shifted.stdout);
    assert.match(shifted.stdout, /^distance\s+numeric\s+wasserstein\s+\S+\s+0\.1000\s+DRIFT/m);
    assert.match(shifted.stdout, /^origin\s+categorical\s+jensenshannon\s+\S+\s+0\.1000\s+DRIFT/m);
    assert.match(shifted.stdout, /DATASET DRIFT/);
  });

  it('CSV with a model: its features, its overrides and --json', () => {
    const r = ct('--reference', f('reference.csv'), '--current', f('shifted.csv'), '--model', model, '--json');
    assert.equal(r.status, 3, r.stderr);
    const report = JSON.parse(r.stdout) as {
      schemaVersion: number;
      features: { name: string; method: string; thresholdSource: string; drifted: boolean }[];
    };
    assert.equal(report.schemaVersion, 1);
    assert.deepEqual(
      report.features.map((x) => [x.name, x.method]),
      [
        ['weekday', 'jensenshannon'],
        ['distance', 'ks'],
        ['origin', 'jensenshannon'],
      ],
    );
    assert.equal(report.features[1]!.thresholdSource, 'fixed');
    assert.equal(report.features[1]!.drifted, true);
    assert.equal(ct('--reference', f('reference.csv'), '--current', f('same.csv'), '--model', model).status, 0);
  });

  it('bad input → exit 2 naming the problem', () => {
    const missing = ct('--reference', f('nope.parquet'), '--current', f('same.parquet'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.parquet: no such file/);
    const empty = ct('--reference', f('reference.csv'), '--current', f('empty.csv'));
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /current window has no rows/);
    const other = ct('--reference', f('reference.csv'), '--current', f('other.csv'));
    assert.equal(other.status, 2);
    assert.match(other.stderr, /feature "distance" is missing from the current window/);
    const noSource = ct('--reference', f('reference.parquet'), '--current', f('other.csv'), '--model', model);
    assert.equal(noSource.status, 2);
    assert.match(noSource.stderr, /column "date" \(source of feature "weekday"\) is missing/);
    const columnless = ct('--reference', f('reference.parquet'), '--current', f('columnless.parquet'));
    assert.equal(columnless.status, 2);
    assert.match(columnless.stderr, /invalid --current \S+columnless\.parquet:\n {2}- current window has no rows\n/);
    for (const args of [
      ['--reference', f('empty.csv'), '--current', f('same.csv')],
      ['--reference', f('columnless.parquet'), '--current', f('same.csv'), '--model', model],
    ]) {
      const emptyRef = ct(...args);
      assert.equal(emptyRef.status, 2, args.join(' '));
      assert.match(emptyRef.stderr, /invalid --reference \S+:\n {2}- reference has no rows\n/);
    }
    const usage = ct('--reference', f('reference.parquet'));
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /required option '--current <file>' not specified/);
    const notData = ct('--reference', model, '--current', f('same.csv'));
    assert.equal(notData.status, 2);
    assert.match(notData.stderr, /expected a \.parquet or \.csv file/);
  });

  it('words in a numeric column → exit 2 naming the column, how many and examples (with and without a model)', () => {
    const expected =
      /invalid --current \S+words\.csv:\n {2}- .*"distance".* is numeric, but 3 of 3000 values are not numbers \(e\.g\. "abc", "twelve"\)/;
    for (const reference of ['reference.csv', 'reference.parquet']) {
      const r = ct('--reference', f(reference), '--current', f('words.csv'));
      assert.equal(r.status, 2, r.stderr + r.stdout);
      assert.match(r.stderr, expected);
    }
    const withModel = ct('--reference', f('reference.parquet'), '--current', f('words.csv'), '--model', model);
    assert.equal(withModel.status, 2, withModel.stderr);
    assert.match(withModel.stderr, expected);
  });

  it('a CSV window against a Parquet reference (no model) is typed like the reference', () => {
    const r = ct('--reference', f('reference.parquet'), '--current', f('same.csv'), '--json');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      features: { name: string; kind: string; missingRate: { current: number } }[];
    };
    assert.deepEqual(
      report.features.find((x) => x.name === 'distance'),
      {
        ...report.features.find((x) => x.name === 'distance'),
        kind: 'numeric',
        missingRate: { reference: 0, current: 0 },
      },
    );
  });

  it('±Infinity in a window is counted apart and left out: finite statistics, no drift, shown in the notes', () => {
    const r = ct('--reference', f('reference.parquet'), '--current', f('infinite.csv'), '--json');
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.doesNotMatch(r.stdout, /"(statistic|wasserstein|wassersteinNormed|jensenshannon|psi)": null/);
    const report = JSON.parse(r.stdout) as {
      features: {
        name: string;
        method: string;
        statistic: number;
        drifted: boolean;
        nonFiniteRate: unknown;
        missingRate: unknown;
      }[];
    };
    const distance = report.features.find((x) => x.name === 'distance')!;
    assert.equal(distance.method, 'wasserstein');
    assert.ok(
      Number.isFinite(distance.statistic) && distance.statistic < 0.1 && !distance.drifted,
      JSON.stringify(distance),
    );
    assert.deepEqual(distance.nonFiniteRate, { reference: 0, current: 2 / 3000 });
    assert.deepEqual(distance.missingRate, { reference: 0, current: 1 / 3000 });
    const table = ct('--reference', f('reference.parquet'), '--current', f('infinite.csv'));
    assert.match(
      table.stdout,
      /^distance\s+numeric\s+wasserstein\s+0\.0\d+\s+0\.1000\s+no\s+±Infinity 0\.0% → 0\.067% \(left out\)/m,
    );
  });
});
