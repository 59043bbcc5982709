import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Columns } from '../../core/features';
import { deriveFeature, labelOf } from '../../core/features';
import { ModelConfig } from '../../core/modelConfig';
import { describeViolations, validateColumns } from '../../core/validation';

const config = ModelConfig.parse({
  modelId: 'm',
  dataset: {
    format: 'csv',
    timeColumn: 't',
    columns: {
      t: { type: 'timestamp' },
      x: { type: 'number', min: 0, max: 10 },
      c: { type: 'string', allowed: ['a', 'b'], nullable: true },
      y: { type: 'integer' },
    },
    minRows: 3,
    labelBalance: { minPositiveFraction: 0.2, maxPositiveFraction: 0.8 },
  },
  features: [{ name: 'x', type: 'numeric', source: 'x' }],
  label: { source: 'y', positiveWhen: { op: '>', value: 0 } },
  trainer: { command: ['true'] },
});

describe('dataset validation', () => {
  it('accepts conforming data', () => {
    const cols: Columns = { t: [1, 2, 3], x: [0, 5, 10], c: ['a', null, 'b'], y: [0, 1, 1] };
    const r = validateColumns(config, cols, 3, ['k'], 'r');
    assert.equal(r.ok, true, describeViolations(r.violations));
    assert.equal(r.columns.c!.nulls, 1);
    assert.ok(Math.abs(r.positiveFraction! - 2 / 3) < 1e-12);
  });

  it('names column, rule and example rows of each violation', () => {
    const cols: Columns = { t: [1, null, 3], x: [-1, 'oops', 11], c: ['a', 'z', 'b'], y: [1, 1, 1] };
    const r = validateColumns(config, cols, 3, ['k'], 'r');
    const rules = r.violations.map((v) => `${v.column}:${v.rule}`).sort();
    assert.deepEqual(rules, ['c:allowed', 't:nullable', 'x:max', 'x:min', 'x:type', 'y:labelBalance']);
    const text = describeViolations(r.violations);
    assert.match(text, /x \[min\] values of "x" below the minimum 0 \(1 rows\); e\.g\. row 0: -1/);
    assert.match(text, /c \[allowed\] .*row 1: "z"/);
  });

  it('reports missing columns and too few rows', () => {
    const r = validateColumns(config, { t: [1], x: [1], y: [1] }, 1, ['k'], 'r');
    assert.ok(r.violations.some((v) => v.column === 'c' && v.rule === 'present'));
    assert.ok(r.violations.some((v) => v.rule === 'minRows'));
  });

  it('derives features and labels', () => {
    const t = Date.UTC(2001, 0, 1, 14, 30); // a Monday
    assert.equal(deriveFeature({ name: 'h', type: 'numeric', source: 't', transform: 'hourOfDay' }, t), 14);
    assert.equal(deriveFeature({ name: 'd', type: 'categorical', source: 't', transform: 'dayOfWeek' }, t), '1');
    assert.equal(deriveFeature({ name: 'o', type: 'categorical', source: 'o', transform: 'identity' }, null), '');
    assert.equal(labelOf(config, 16), 1);
    assert.equal(labelOf(config, 0), 0);
    assert.equal(labelOf(config, null), null);
  });
});
