// Human-readable summary of a finished (or running) retraining run.
import type { RunStatus } from '../core/runStatus';
import { type SweepStatus, trialValuesText } from '../core/sweep';

const f4 = (x: number | undefined) => (x === undefined ? '   —  ' : Number.isFinite(x) ? x.toFixed(4) : String(x));

export function formatRunSummary(s: RunStatus): string {
  const lines: string[] = [];
  lines.push(
    `  outcome: ${s.outcome}${s.registered ? ` → registered v${s.registered.version}${s.registered.promoted ? ', now champion' : ''}` : ''}`,
  );
  lines.push(`  stages: ${s.timings.map((t) => `${t.stage} ${t.seconds?.toFixed(1) ?? '…'}s`).join(' · ')}`);
  if (s.validation) lines.push(`  data: ${s.validation.rows} rows validated`);
  if (s.reused)
    lines.push(
      `  training: reused ${s.reused.workflowId} (identical fingerprint), ${s.reused.deviceSeconds.toFixed(1)} ${s.reused.deviceSecondsKind.toUpperCase()}-s not spent again`,
    );
  if (s.fingerprint) lines.push(`  fingerprint: ${s.fingerprint}`);
  const p = s.preflight;
  if (p)
    lines.push(
      `  preflight: passed in ${p.seconds.toFixed(1)} s on CPU: ${p.steps} step(s) on ${p.rows.train} rows, checkpoint at step ${p.checkpointStep}, resumed at step ${p.resumedAtStep}`,
    );
  if (s.sweep) lines.push(...sweepTable(s.sweep));
  if (s.training)
    lines.push(
      `  training: ${s.training.step} steps on ${s.training.device}, final loss ${s.training.loss?.toFixed(4) ?? '—'}`,
    );
  const e = s.evaluation;
  if (e) {
    const champ = e.champion;
    lines.push(
      `${`  holdout ${e.holdoutRows} rows${(e.task ?? 'binary') === 'binary' ? ` (threshold ${e.threshold})` : ''}`.padEnd(34)}   candidate   ${champ ? `champion v${champ.version}` : '(no champion)'}`,
    );
    for (const m of Object.keys(e.candidate.overall) as (keyof typeof e.candidate.overall)[]) {
      lines.push(
        `    ${m.padEnd(10)}                       ${f4(e.candidate.overall[m])}      ${champ ? f4(champ.overall[m]) : ''}`,
      );
    }
  }
  if (s.verdict) lines.push(`  gate: ${s.verdict.passed ? 'PASSED' : 'FAILED'} — ${s.verdict.reasons.join('; ')}`);
  const tracked = s.tracking;
  if (tracked)
    lines.push(
      'skipped' in tracked
        ? `  tracking: skipped — ${tracked.skipped}`
        : `  MLflow: ${tracked.url}${tracked.registeredVersion ? ` (model version ${tracked.registeredVersion}, alias champion)` : ''}`,
    );
  if (s.decision) lines.push(`  decision: ${s.decision.outcome} by ${s.decision.by} (${s.decision.mode})`);
  if (s.error) lines.push(`  error: ${s.error}`);
  return lines.join('\n');
}

/** One line per trial: its values, how far it trained, its metric and how it ended; the winner marked. */
function sweepTable(sw: SweepStatus): string[] {
  const rungs = sw.halving ? `, successive halving (rungs at steps ${sw.rungs.join(', ') || '—'})` : '';
  return [
    `  sweep: ${sw.trials.length} trials on validation ${sw.metric.name} (${sw.metric.goal})${rungs}`,
    ...sw.trials.map((t) => {
      const values = trialValuesText(t.values);
      const metric = t.metric === null ? '—' : t.metric.toFixed(4);
      const end = t.error ? `${t.state}: ${t.error}` : t.state;
      return `    ${t.name === sw.winner ? '*' : ' '} ${t.name}  ${values.padEnd(36)} step ${String(t.step).padStart(6)}  ${metric.padStart(7)}  ${end}`;
    }),
  ];
}
