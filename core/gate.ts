// The promotion gate: absolute bounds, direction-aware regression limits vs the champion (absolute, relative,
// per slice), and a statistical comparison (paired bootstrap non-inferiority or McNemar) when configured.
import { type ModelConfig, comparisonMetric } from './modelConfig';
import type { EvaluationReport, GateCheck, GateVerdict, Metrics } from './reports';
import { type MetricName, isLowerBetter } from './taskKind';

/** How much worse `candidate` is than `champion` (positive = worse), whichever direction the metric improves in. */
export function regression(metric: MetricName, candidate: number, champion: number): number {
  return isLowerBetter(metric) ? candidate - champion : champion - candidate;
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));
const entries = <T>(r: Partial<Record<MetricName, T>>) => Object.entries(r) as [MetricName, T][];

function pointChecks(
  gate: ModelConfig['gate'],
  candidate: Metrics,
  champion: { version: number; metrics: Metrics } | null,
  skip: ReadonlySet<MetricName>,
): GateCheck[] {
  const checks: GateCheck[] = [];
  for (const [metric, threshold] of entries(gate.minimum)) {
    const value = candidate[metric] ?? Number.NaN;
    const passed = value >= threshold;
    checks.push({
      metric,
      rule: 'minimum',
      threshold,
      value,
      passed,
      reason: `${metric} ${fmt(value)} ${passed ? '>=' : '<'} minimum ${fmt(threshold)}`,
    });
  }
  for (const [metric, threshold] of entries(gate.maximum)) {
    const value = candidate[metric] ?? Number.NaN;
    const passed = value <= threshold;
    checks.push({
      metric,
      rule: 'maximum',
      threshold,
      value,
      passed,
      reason: `${metric} ${fmt(value)} ${passed ? '<=' : '>'} maximum ${fmt(threshold)}`,
    });
  }
  if (champion) {
    for (const [metric, threshold] of entries(gate.maxRegression)) {
      if (skip.has(metric)) continue;
      const value = regression(metric, candidate[metric] ?? Number.NaN, champion.metrics[metric] ?? Number.NaN);
      const passed = value <= threshold;
      checks.push({
        metric,
        rule: 'maxRegression',
        threshold,
        value,
        passed,
        reason: `${metric} is ${fmt(Math.abs(value))} ${value > 0 ? 'worse' : 'better or equal'} than champion v${champion.version} (allowed worsening ${fmt(threshold)})`,
      });
    }
  }
  return checks;
}

function verdict(checks: GateCheck[], championVersion: number | null, extra: Partial<GateVerdict> = {}): GateVerdict {
  const failed = checks.filter((c) => !c.passed);
  return {
    passed: failed.length === 0,
    championVersion,
    checks,
    reasons:
      failed.length > 0
        ? failed.map((c) => c.reason)
        : [
            championVersion !== null
              ? `all ${checks.length} checks passed against champion v${championVersion}`
              : `all ${checks.length} checks passed (no champion yet)`,
          ],
    ...extra,
  };
}

/** The full gate over an evaluation report: every rule of `gate`, recording what it was computed from. */
export function evaluateGate(gate: ModelConfig['gate'], report: EvaluationReport): GateVerdict {
  const champion =
    report.champion?.version != null ? { version: report.champion.version, metrics: report.champion.overall } : null;
  const comparison = report.comparison ?? null;
  const checks: GateCheck[] = [];
  if (!champion && gate.noChampion === 'reject') {
    checks.push({
      metric: comparisonMetric({ task: report.task ?? 'binary', gate }),
      rule: 'noChampion',
      threshold: 0,
      value: 0,
      passed: false,
      reason: 'no champion to compare with (gate.noChampion: reject)',
    });
  }
  // A statistical comparison replaces the point check of the metric it covers.
  const covered = new Set<MetricName>(comparison ? [comparison.metric] : []);
  checks.push(...pointChecks(gate, report.candidate.overall, champion, covered));

  if (champion) {
    for (const [metric, threshold] of entries(gate.maxRelativeRegression)) {
      const base = champion.metrics[metric] ?? Number.NaN;
      const value = regression(metric, report.candidate.overall[metric] ?? Number.NaN, base) / Math.abs(base);
      const passed = value <= threshold;
      checks.push({
        metric,
        rule: 'maxRelativeRegression',
        threshold,
        value,
        passed,
        reason: `${metric} is ${fmt(value * 100)}% ${value > 0 ? 'worse' : 'better or equal'} relative to champion v${champion.version} (allowed ${fmt(threshold * 100)}%)`,
      });
    }
    if (comparison?.method === 'bootstrap') {
      const margin = gate.maxRegression[comparison.metric] ?? 0;
      const lower = comparison.lower ?? Number.NaN;
      const passed = lower >= -margin;
      checks.push({
        metric: comparison.metric,
        rule: 'nonInferiority',
        threshold: -margin,
        value: lower,
        passed,
        reason: `${comparison.metric} improvement ${fmt(comparison.estimate)}, ${comparison.confidence * 100}% CI [${fmt(lower)}, ${fmt(comparison.upper ?? Number.NaN)}] ${passed ? 'stays above' : 'falls below'} -${fmt(margin)} vs champion v${champion.version} (paired bootstrap, ${comparison.resamples} resamples)`,
      });
    }
    if (comparison?.method === 'mcnemar' && comparison.discordant) {
      const { candidateOnly, championOnly } = comparison.discordant;
      const alpha = 1 - comparison.confidence;
      const pValue = comparison.pValue ?? 1;
      const passed = !(championOnly > candidateOnly && pValue < alpha);
      checks.push({
        metric: 'accuracy',
        rule: 'mcnemar',
        threshold: alpha,
        value: pValue,
        passed,
        reason: `McNemar: candidate alone right on ${candidateOnly} rows, champion v${champion.version} alone on ${championOnly}, p = ${pValue.toPrecision(3)} (${passed ? 'not significantly worse' : `significantly worse at ${alpha}`})`,
      });
    }
    if (gate.slices && report.champion) {
      const rule = gate.slices;
      const championSlices = new Map(report.champion.slices.map((s) => [s.value, s]));
      for (const slice of report.candidate.slices) {
        const theirs = championSlices.get(slice.value);
        if (!theirs || slice.rows < rule.minRows) continue;
        const value = regression(
          rule.metric,
          slice.metrics[rule.metric] ?? Number.NaN,
          theirs.metrics[rule.metric] ?? Number.NaN,
        );
        const passed = value <= rule.maxRegression;
        checks.push({
          metric: rule.metric,
          rule: 'slice',
          slice: slice.value,
          threshold: rule.maxRegression,
          value,
          passed,
          reason: `slice ${report.sliceBy}=${slice.value} (${slice.rows} rows): ${rule.metric} ${fmt(Math.abs(value))} ${value > 0 ? 'worse' : 'better or equal'} (allowed ${fmt(rule.maxRegression)})`,
        });
      }
    }
  }
  return verdict(checks, champion?.version ?? null, {
    holdoutSha256: report.holdoutSha256,
    comparison,
    thresholds: gate,
  });
}
