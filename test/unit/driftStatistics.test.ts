// The drift statistics against SciPy 1.17 (one Python process computes every reference value): |ours − SciPy| ≤ 1e-9.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  chi2Contingency,
  chi2Sf,
  distributionOf,
  jensenShannon,
  ks2samp,
  normalTwoSided,
  wasserstein,
} from '../../core/drift';
import type { Distribution } from '../../core/drift/statistics';
import { kolmogorovSf } from '../../core/drift/kolmogorov';
import { seededRandom } from '../../core/split';

const root = path.resolve(import.meta.dirname, '../..');
const TOLERANCE = 1e-9;

function normal(n: number, seed: number, mean = 0, sd = 1, decimals?: number): Float64Array {
  const rand = seededRandom(seed);
  return Float64Array.from({ length: n }, () => {
    const v = mean + sd * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return decimals === undefined ? v : Math.round(v * 10 ** decimals) / 10 ** decimals;
  });
}
function integers(n: number, seed: number, max: number, skew = 1): Float64Array {
  const rand = seededRandom(seed);
  return Float64Array.from({ length: n }, () => Math.floor(max * rand() ** skew));
}

/** Pairs of numeric samples: small ones (SciPy's exact KS), ties, equal sizes, and large ones (asymptotic KS). */
const numericPairs: [string, Float64Array, Float64Array][] = [
  ['normal 200 vs 300', normal(200, 1), normal(300, 2)],
  ['equal sizes 500, shifted', normal(500, 3), normal(500, 4, 0.3)],
  ['ties 800 vs 1200', integers(800, 5, 10), integers(1200, 6, 10, 1.2)],
  ['normal 3000 vs 7000, small shift', normal(3000, 7), normal(7000, 8, 0.05, 1.1)],
  ['identical distribution 40 vs 60', integers(40, 9, 4), integers(60, 10, 4)],
  ['asymptotic ties 20000 vs 15000', integers(20000, 11, 50), integers(15000, 12, 50, 1.05)],
  ['asymptotic normal 50000 vs 30000', normal(50000, 13, 0, 1, 3), normal(30000, 14, 0.02, 1, 3)],
  ['asymptotic strongly shifted 12000 vs 11000', normal(12000, 15), normal(11000, 16, 1)],
  ['unbalanced asymptotic 20001 vs 37', normal(20001, 17), normal(37, 18, 0.4)],
];

const jsPairs: [string, number[], number[]][] = [
  ['bins', [120, 80, 100, 95, 105, 110, 90, 100, 100, 100], [90, 110, 130, 80, 100, 95, 105, 100, 90, 100]],
  ['with zeros', [50, 0, 30, 20], [10, 40, 0, 50]],
  ['identical', [3, 4, 5], [6, 8, 10]],
];

const chi2Tables: [string, number[], number[]][] = [
  ['categories with unseen ones', [300, 200, 150, 100, 50, 0], [280, 230, 120, 90, 70, 15]],
  ['binary: Yates correction (dof 1)', [620, 380], [570, 430]],
  ['binary small counts', [7, 3], [2, 9]],
  ['weekdays, no drift', [1400, 1420, 1390, 1410, 1405, 1380, 1395], [700, 705, 690, 720, 701, 699, 710]],
  [
    'many categories, strong drift',
    Array.from({ length: 230 }, (_, i) => 50 + ((i * 37) % 400)),
    Array.from({ length: 230 }, (_, i) => 60 + ((i * 53) % 300)),
  ],
];

const kstwoCases: { n: number; x: number }[] = [];
for (const n of [3, 10, 50, 140, 141, 500, 5000, 12000, 50000, 99999, 200000, 300000, 700000, 999999, 2000000]) {
  for (const z of [0.3, 0.5, 0.8, 1, 1.2, 1.5, 1.6, 2, 3, 4, 5, 9, 15])
    if (z / Math.sqrt(n) < 1) kstwoCases.push({ n, x: z / Math.sqrt(n) });
  for (const x of [0.6, 0.9, 1.5 / n, 0.8 / n]) if (x < 1) kstwoCases.push({ n, x });
}
const chi2SfCases: { x: number; dof: number }[] = [];
for (const dof of [1, 2, 3, 6, 9, 29, 100, 229, 999])
  for (const f of [0.01, 0.3, 0.9, 1, 1.1, 1.5, 3, 10]) chi2SfCases.push({ x: dof * f, dof });
const zCases = [0, 0.1, 1, 1.96, 3, 6, 10, 20, -2.5];

const cases = [
  ...numericPairs.flatMap(([, a, b]) => {
    const [da, db] = [distributionOf(a), distributionOf(b)];
    const body = {
      aValues: Array.from(da.values),
      aCounts: Array.from(da.counts),
      bValues: Array.from(db.values),
      bCounts: Array.from(db.counts),
    };
    return [
      { kind: 'ks', ...body },
      { kind: 'wasserstein', ...body },
    ];
  }),
  ...jsPairs.map(([, p, q]) => ({ kind: 'js', p, q })),
  ...chi2Tables.map(([, ref, cur]) => ({ kind: 'chi2', ref, cur })),
  ...kstwoCases.map((c) => ({ kind: 'kstwo', ...c })),
  ...chi2SfCases.map((c) => ({ kind: 'chi2sf', ...c })),
  ...zCases.map((z) => ({ kind: 'norm2', z })),
];

function scipy(): number[][] {
  const out = spawnSync(path.join(root, '.ct/tools/venv/bin/python'), [path.join(root, 'test/helpers/scipyDrift.py')], {
    input: JSON.stringify({ cases }),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  assert.equal(out.status, 0, `scipyDrift.py failed: ${out.stderr || out.error?.message}`);
  return (JSON.parse(out.stdout) as { results: number[][] }).results;
}

const maxDiff: Record<string, number> = {};
function close(what: string, ours: number, theirs: number, label: string): void {
  const diff = Math.abs(ours - theirs);
  maxDiff[what] = Math.max(maxDiff[what] ?? 0, diff);
  assert.ok(diff <= TOLERANCE, `${what} (${label}): ours ${ours} vs SciPy ${theirs} (|diff| ${diff})`);
}

describe('drift statistics match SciPy within 1e-9', () => {
  const expected = scipy();
  let next = 0;
  const take = () => expected[next++]!;

  it('ks_2samp statistic and p-value (exact and asymptotic), wasserstein_distance and the normed one', () => {
    for (const [label, a, b] of numericPairs) {
      const da: Distribution = distributionOf(a);
      const db: Distribution = distributionOf(b);
      const ks = ks2samp(da, db);
      const [stat, p] = take() as [number, number];
      close('ks statistic', ks.statistic, stat, label);
      close('ks p-value', ks.pValue, p, label);
      assert.equal(ks.mode, Math.max(a.length, b.length) <= 10000 ? 'exact' : 'asymp', label);
      const [w, sd] = take() as [number, number];
      close('wasserstein', wasserstein(da, db), w, label);
      let mean = 0;
      for (const v of a) mean += v / a.length;
      const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
      close('wasserstein normed', wasserstein(da, db) / std, w / sd, label);
    }
  });

  it('jensenshannon (natural log)', () => {
    for (const [label, p, q] of jsPairs) close('jensenshannon', jensenShannon(p, q), take()[0]!, label);
  });

  it('chi2_contingency statistic, p-value and dof (Yates only at dof 1)', () => {
    for (const [label, ref, cur] of chi2Tables) {
      const ours = chi2Contingency(ref, cur);
      const [stat, p, dof] = take() as [number, number, number];
      close('chi2 statistic', ours.statistic, stat, label);
      close('chi2 p-value', ours.pValue, p, label);
      assert.equal(ours.dof, dof, label);
    }
  });

  it("kstwo.sf across all of SciPy's algorithm branches, chi2.sf and the two-sided normal tail", () => {
    let worstSmirnov = 0;
    let smirnovCases = 0;
    for (const c of kstwoCases) {
      const [ours, theirs] = [kolmogorovSf(c.n, c.x), take()[0]!];
      close('kstwo.sf', ours, theirs, `n=${c.n} x=${c.x}`);
      // Where SciPy takes 2·smirnov (n·x² ≥ 2.2 for n > 140) the p-values drift tests compare are tiny, so the
      // absolute bound says little: there ours must agree to 1e-12 relative (large n sums a sampled grid).
      if (c.n > 140 && c.n <= 1_000_000 && c.n * c.x * c.x >= 2.2 && theirs > 1e-300) {
        smirnovCases++;
        const rel = Math.abs(ours - theirs) / theirs;
        worstSmirnov = Math.max(worstSmirnov, rel);
        assert.ok(rel <= 1e-12, `kstwo.sf n=${c.n} x=${c.x}: ours ${ours} vs SciPy ${theirs} (relative ${rel})`);
      }
    }
    assert.ok(smirnovCases >= 40, `the Smirnov range has ${smirnovCases} cases`);
    maxDiff['kstwo.sf relative, Smirnov range'] = worstSmirnov;
    for (const c of chi2SfCases) close('chi2.sf', chi2Sf(c.x, c.dof), take()[0]!, `x=${c.x} dof=${c.dof}`);
    for (const z of zCases) close('2·norm.sf', normalTwoSided(z), take()[0]!, `z=${z}`);
    assert.equal(next, expected.length);
    console.log(
      `max |ours − SciPy|: ${Object.entries(maxDiff)
        .map(([k, v]) => `${k} ${v.toExponential(1)}`)
        .join(', ')}`,
    );
  });
});
