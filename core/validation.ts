// Dataset validation against a model's declared schema: a pure function of the columns read.
import { type Cell, type Columns, isMissing, labelOf, labelRule } from './features';
import type { ColumnRule, ModelConfig } from './modelConfig';
import type { ValidationReport, Violation } from './reports';

const MAX_EXAMPLES = 3;
const MAX_DISTINCT_TRACKED = 10_000;

function typeMatches(rule: ColumnRule, v: Cell): boolean {
  switch (rule.type) {
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
    case 'timestamp':
      return typeof v === 'number' && Number.isFinite(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
  }
}

class ViolationCollector {
  private readonly byKey = new Map<string, Violation>();
  add(column: string, rule: string, message: string, row: number, value: unknown) {
    const key = `${column}\u0000${rule}`;
    let v = this.byKey.get(key);
    if (!v) {
      v = { column, rule, message, count: 0, examples: [] };
      this.byKey.set(key, v);
    }
    v.count++;
    if (v.examples.length < MAX_EXAMPLES) v.examples.push({ row, value });
  }
  list(): Violation[] {
    return [...this.byKey.values()];
  }
}

export function validateColumns(
  config: ModelConfig,
  columns: Columns,
  rows: number,
  datasetKeys: string[],
  reportKey: string,
): ValidationReport {
  const found = new ViolationCollector();
  const stats: ValidationReport['columns'] = {};

  for (const [name, rule] of Object.entries(config.dataset.columns)) {
    const values = columns[name];
    if (!values) {
      found.add(
        name,
        'present',
        `column "${name}" is declared in the model config but missing from the dataset`,
        -1,
        null,
      );
      continue;
    }
    let nulls = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    const distinct = new Set<string>();
    const allowed = rule.allowed ? new Set(rule.allowed) : null;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (isMissing(v)) {
        nulls++;
        if (!rule.nullable) found.add(name, 'nullable', `null values in non-nullable column "${name}"`, i, null);
        continue;
      }
      if (!typeMatches(rule, v)) {
        found.add(name, 'type', `values of "${name}" must be of type ${rule.type}`, i, v);
        continue;
      }
      if (typeof v === 'number') {
        if (v < min) min = v;
        if (v > max) max = v;
        if (rule.min !== undefined && v < rule.min)
          found.add(name, 'min', `values of "${name}" below the minimum ${rule.min}`, i, v);
        if (rule.max !== undefined && v > rule.max)
          found.add(name, 'max', `values of "${name}" above the maximum ${rule.max}`, i, v);
      }
      if (typeof v === 'string') {
        if (distinct.size < MAX_DISTINCT_TRACKED) distinct.add(v);
        if (allowed && !allowed.has(v))
          found.add(name, 'allowed', `values of "${name}" outside the allowed categories`, i, v);
      }
    }
    stats[name] = {
      nulls,
      min: Number.isFinite(min) ? min : null,
      max: Number.isFinite(max) ? max : null,
      distinct: rule.type === 'string' ? distinct.size : null,
    };
  }

  if (rows < config.dataset.minRows) {
    found.add(
      '(dataset)',
      'minRows',
      `${rows} rows, fewer than the required minimum of ${config.dataset.minRows}`,
      -1,
      rows,
    );
  }

  let positiveFraction: number | null = null;
  const labelSource = columns[config.label.source];
  if (labelSource && rows > 0) {
    let positives = 0;
    let labelled = 0;
    const distinct = new Set<number>();
    for (let i = 0; i < labelSource.length; i++) {
      const v = labelSource[i]!;
      if (isMissing(v)) continue;
      const y = labelOf(config, v);
      if (y === null) {
        if (typeof v === 'number' && distinct.size < MAX_DISTINCT_TRACKED) distinct.add(v);
        found.add(
          config.label.source,
          'label',
          `values of "${config.label.source}" are not labels of the task: ${labelRule(config)}`,
          i,
          v,
        );
        continue;
      }
      labelled++;
      positives += y;
      if (config.task !== 'regression' && distinct.size < MAX_DISTINCT_TRACKED) distinct.add(y);
    }
    const invalid = found.list().find((f) => f.rule === 'label');
    if (invalid && config.task === 'binary' && !config.label.positiveWhen)
      invalid.message += `: the column holds ${distinct.size} distinct values`;
    if (config.task === 'binary') positiveFraction = labelled > 0 ? positives / labelled : null;
    const balance = config.dataset.labelBalance;
    if (
      balance &&
      (positiveFraction === null ||
        positiveFraction < balance.minPositiveFraction ||
        positiveFraction > balance.maxPositiveFraction)
    ) {
      found.add(
        config.label.source,
        'labelBalance',
        `positive label fraction ${positiveFraction?.toFixed(4) ?? 'n/a'} outside [${balance.minPositiveFraction}, ${balance.maxPositiveFraction}]`,
        -1,
        positiveFraction,
      );
    }
  }

  const violations = found.list();
  return { ok: violations.length === 0, rows, datasetKeys, positiveFraction, columns: stats, violations, reportKey };
}

/** One line per violation, naming the column, the rule and example rows: what the failed run shows. */
export function describeViolations(violations: Violation[]): string {
  return violations
    .map((v) => {
      const examples = v.examples.filter((e) => e.row >= 0).map((e) => `row ${e.row}: ${JSON.stringify(e.value)}`);
      return `${v.column} [${v.rule}] ${v.message} (${v.count} rows)${examples.length ? `; e.g. ${examples.join(', ')}` : ''}`;
    })
    .join('\n');
}
