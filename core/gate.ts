// The promotion gate: absolute bounds and direction-aware regression limits vs the champion.
import type { MetricName, ModelConfig } from './modelConfig';
import type { GateCheck, GateVerdict, Metrics } from './reports';

const LOWER_IS_BETTER: ReadonlySet<MetricName> = new Set(['logLoss']);

export function isLowerBetter(metric: MetricName): boolean {
  return LOWER_IS_BETTER.has(metric);
}

/** How much worse `candidate` is than `champion` (positive = worse), whichever direction the metric improves in. */
export function regression(metric: MetricName, candidate: number, champion: number): number {
  return isLowerBetter(metric) ? candidate - champion : champion - candidate;
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));

export function evaluateGate(
  gate: ModelConfig['gate'],
  candidate: Metrics,
  champion: { version: number; metrics: Metrics } | null,
): GateVerdict {
  const checks: GateCheck[] = [];
  const entries = <T>(r: Partial<Record<MetricName, T>>) => Object.entries(r) as [MetricName, T][];

  for (const [metric, threshold] of entries(gate.minimum)) {
    const value = candidate[metric] ?? Number.NaN;
    const passed = value >= threshold;
    checks.push({ metric, rule: 'minimum', threshold, value, passed, reason: `${metric} ${fmt(value)} ${passed ? '>=' : '<'} minimum ${fmt(threshold)}` });
  }
  for (const [metric, threshold] of entries(gate.maximum)) {
    const value = candidate[metric] ?? Number.NaN;
    const passed = value <= threshold;
    checks.push({ metric, rule: 'maximum', threshold, value, passed, reason: `${metric} ${fmt(value)} ${passed ? '<=' : '>'} maximum ${fmt(threshold)}` });
  }
  if (champion) {
    for (const [metric, threshold] of entries(gate.maxRegression)) {
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
  const failed = checks.filter((c) => !c.passed);
  return {
    passed: failed.length === 0,
    championVersion: champion?.version ?? null,
    checks,
    reasons: failed.length > 0 ? failed.map((c) => c.reason) : [champion ? `all ${checks.length} checks passed against champion v${champion.version}` : `all ${checks.length} checks passed (no champion yet)`],
  };
}
