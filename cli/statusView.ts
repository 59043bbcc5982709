// What `ct status` and `ct retrain --wait` show, pure: a run's status or a model's supervisor as a block of lines
// (redrawn in place in a terminal) and as one summary line (printed when it changes, for pipes and logs).
// The bar itself is cli-progress's bar formatter: our view is a multi-line block (stages, bar, gate, approval),
// which cli-progress's own bars cannot redraw, so log-update redraws the block and cli-progress draws the bar.
import cliProgress from 'cli-progress';
import type { SupervisorStatus } from '../core/continuousTraining';
import type { TrainingProgress } from '../core/progress';
import { type RunStatus, sweepLine, waitingLine } from '../core/runStatus';

const BAR_WIDTH = 24;
const BAR_OPTIONS = {
  barsize: BAR_WIDTH,
  barCompleteString: '█'.repeat(BAR_WIDTH),
  barIncompleteString: '░'.repeat(BAR_WIDTH),
  barGlue: '',
};

/** Seconds as a clock: 0:42, 12:05, 1:02:03. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

/**
 * Seconds left in training: the samples left at the reported samples/s (samples per step from samplesProcessed),
 * else the steps left at this attempt's step rate (steps since it started over updatedAt − attemptStartedAt).
 * Null without a total or without any rate to go by.
 */
export function trainingEta(t: TrainingProgress): number | null {
  if (!t.totalSteps) return null;
  const left = Math.max(0, t.totalSteps - t.step);
  if (left === 0) return 0;
  if (t.samplesPerSec && t.samplesProcessed && t.step > 0)
    return (left * (t.samplesProcessed / t.step)) / t.samplesPerSec;
  if (!t.attemptStartedAt || !t.updatedAt) return null;
  const elapsed = (Date.parse(t.updatedAt) - Date.parse(t.attemptStartedAt)) / 1000;
  const steps = t.step - (t.resumedFromStep ?? 0);
  return elapsed > 0 && steps > 0 ? left / (steps / elapsed) : null;
}

/** The parts of a training progress line, shared by the bar line and the one-line summary. */
function trainingParts(t: TrainingProgress): string[] {
  const eta = trainingEta(t);
  return [
    ...(t.totalSteps ? [`${Math.floor((100 * t.step) / t.totalSteps)}%`] : []),
    ...(t.samplesPerSec !== null ? [`${t.samplesPerSec.toFixed(0)} samples/s`] : []),
    ...(eta !== null ? [`ETA ${clock(eta)}`] : []),
    ...(t.loss !== null ? [`loss ${t.loss.toFixed(4)}`] : []),
  ];
}

const stepOfTotal = (t: TrainingProgress) => `${t.step}/${t.totalSteps ?? '?'}`;

/** `[████░░░░] 120/400 30% · 850 samples/s · ETA 0:42 · loss 0.4123` */
export function progressBarLine(t: TrainingProgress): string {
  const bar = t.totalSteps ? cliProgress.Format.BarFormat(Math.min(1, t.step / t.totalSteps), BAR_OPTIONS) : null;
  return [`${bar ? `[${bar}] ` : ''}${stepOfTotal(t)}`, ...trainingParts(t)].join(' · ');
}

/** Each stage with its time; the stage in progress counts up to `now`. */
export function stagesLine(s: RunStatus, now: number): string {
  const parts = s.timings.map((t) =>
    t.seconds !== null
      ? `${t.stage} ${t.seconds.toFixed(1)}s`
      : `${t.stage} ${((now - Date.parse(t.startedAt)) / 1000).toFixed(0)}s…`,
  );
  return `stages: ${parts.join(' · ') || '—'}`;
}

const training = (s: RunStatus): TrainingProgress | null =>
  s.training && (s.stage === 'train' || s.stage === 'sweep') && s.outcome === 'running' ? s.training : null;
/** `train`, or in a sweep the trial training: `train t03`. */
const trainLabel = (t: TrainingProgress) => (t.trial ? `train ${t.trial}` : 'train');
const awaitingApproval = (s: RunStatus) => s.stage === 'approval' && !s.decision && s.outcome === 'running';
const verdictText = (s: RunStatus) =>
  s.verdict ? `gate ${s.verdict.passed ? 'PASSED' : 'FAILED'} — ${s.verdict.reasons.join('; ')}` : null;

/** The block a terminal redraws: stage, stages, training bar, gate verdict, approval wait, outcome. */
export function runBlock(s: RunStatus, now: number): string[] {
  const lines = [`${s.workflowId}: stage ${s.stage} (${s.outcome})`, `  ${stagesLine(s, now)}`];
  if (s.sweep && s.outcome === 'running') lines.push(`  ${sweepLine(s.sweep)}`);
  const t = training(s);
  if (t) {
    lines.push(`  ${trainLabel(t)} ${progressBarLine(t)}`);
    if (t.checkpointKey) lines.push(`  last checkpoint: ${t.checkpointKey}`);
  }
  const verdict = verdictText(s);
  if (verdict) lines.push(`  ${verdict}`);
  if (awaitingApproval(s)) lines.push(`  ${waitingLine(s.approval, now)}`);
  if (s.decision) lines.push(`  decision: ${s.decision.outcome} by ${s.decision.by}`);
  if (s.error) lines.push(`  error: ${s.error}`);
  return lines;
}

/**
 * One line that changes only when something worth a new line happens: the stage, a training step, the verdict,
 * the approval wait (its countdown in whole minutes), the outcome.
 * `train 120/400 30% 850 samples/s ETA 0:42 loss 0.4123`
 */
export function runLine(s: RunStatus, now: number): string {
  if (s.outcome !== 'running') return `${s.stage} ${s.outcome}${s.error ? `: ${s.error}` : ''}`;
  const t = training(s);
  if (t) return [trainLabel(t), stepOfTotal(t), ...trainingParts(t)].join(' ');
  if (awaitingApproval(s)) return `approval: ${waitingLine(s.approval, now)}`;
  const verdict = verdictText(s);
  return verdict && s.stage !== 'evaluate' ? `${s.stage}: ${verdict}` : s.stage;
}

/** The supervisor's state: phase, champion, drift, the open incident and its run, the last runs. */
export function supervisorBlock(s: SupervisorStatus): string[] {
  const lines = [
    `${s.modelId}: ${s.phase}${s.paused ? ' (paused)' : ''} · champion ${s.championVersion === null ? 'none' : `v${s.championVersion}`} · reports ${s.reportsReceived} · drift in ${s.consecutiveDrift} consecutive window(s)`,
  ];
  const inc = s.incident;
  if (inc) {
    lines.push(
      `open ${inc.id} (${inc.kind}, opened ${inc.openedAt} by ${inc.requestedBy}): ${inc.reason}`,
      `  evidence: ${inc.evidenceCount} report(s)/request(s)`,
    );
    if (inc.run)
      lines.push(`  run: ${inc.run.workflowId} ${inc.run.outcome}${inc.run.version ? ` v${inc.run.version}` : ''}`);
    if (inc.cooldownUntil) lines.push(`  cooldown until ${inc.cooldownUntil}`);
  } else lines.push('no open incident');
  if (s.lastRuns.length)
    lines.push(
      'last runs:',
      ...s.lastRuns.map(
        (r) =>
          `  ${r.startedAt} ${r.workflowId} ${r.trigger} → ${r.outcome}${r.version ? ` v${r.version}` : ''}${r.error ? ` (${r.error})` : ''}`,
      ),
    );
  return lines;
}

/** `flight-delay: retraining · champion v1 · incident inc-2 · retrain/… train 120/400 …` */
export function supervisorLine(s: SupervisorStatus, run: RunStatus | null, now: number): string {
  const parts = [
    `${s.modelId}: ${s.phase}${s.paused ? ' (paused)' : ''}`,
    `champion ${s.championVersion === null ? 'none' : `v${s.championVersion}`}`,
  ];
  if (s.incident) parts.push(`incident ${s.incident.id}`);
  if (run) parts.push(`${run.workflowId} ${runLine(run, now)}`);
  return parts.join(' · ');
}
