// What a running or finished retrainingPipeline reports: the `status` query result and the workflow result.
import { z } from 'zod';
import { TrainingProgress } from './progress';
import { ReusedTraining } from './experiments';
import { PreflightReport } from './preflight';
import { Decision, EvaluationReport, GateVerdict, RegisteredVersion } from './reports';
import { RunInput } from './runInput';
import { SweepStatus } from './sweep';
import { TrackingStatus } from './tracking';

export const STAGES = [
  'validate',
  'prepare',
  'preflight',
  'sweep',
  'train',
  'evaluate',
  'gate',
  'approval',
  'register',
] as const;
export const Stage = z.enum(['starting', ...STAGES, 'done']);
export type Stage = z.infer<typeof Stage>;

export const Outcome = z.enum(['running', 'promoted', 'rejected-by-gate', 'rejected', 'failed', 'cancelled']);
export type Outcome = z.infer<typeof Outcome>;

export const StageTiming = z.object({
  stage: Stage,
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  seconds: z.number().nullable(),
});

/** While a run waits for people: who may decide, how many have, and which deadline fires next. */
export const ApprovalWait = z.object({
  approvers: z
    .array(z.string())
    .describe('who may decide now (escalation roles included once escalated); empty: anyone but the requester'),
  quorum: z.number().int(),
  approvals: z.array(z.string()).describe('who has approved so far'),
  escalated: z.boolean(),
  next: z.object({ kind: z.enum(['reminder', 'escalation', 'timeout']), at: z.string() }).nullable(),
});
export type ApprovalWait = z.infer<typeof ApprovalWait>;

export const RunStatus = z.object({
  modelId: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  stage: Stage,
  outcome: Outcome,
  trigger: RunInput.shape.trigger,
  datasetKeys: z.array(z.string()),
  timings: z.array(StageTiming),
  validation: z.object({ rows: z.number(), reportKey: z.string() }).nullable(),
  training: TrainingProgress.nullable(),
  fingerprint: z
    .string()
    .nullable()
    .default(null)
    .describe('SHA-256 of what decides the trained model (README "Experiment memory"); null before it is known'),
  reused: ReusedTraining.nullable()
    .default(null)
    .describe('the earlier training with the same fingerprint that this run reused instead of training'),
  preflight: PreflightReport.nullable()
    .default(null)
    .describe('the smoke run before training (README "Preflight"); null when off, reused or not reached'),
  sweep: SweepStatus.nullable()
    .default(null)
    .describe('the hyperparameter sweep and its trials (README "Sweeps"); null when the model config has none'),
  evaluation: EvaluationReport.nullable(),
  verdict: GateVerdict.nullable(),
  decision: Decision.nullable(),
  approval: ApprovalWait.nullable().default(null).describe('set while (and after) the run waits for approval'),
  registered: RegisteredVersion.nullable(),
  tracking: TrackingStatus.nullable()
    .default(null)
    .describe(
      'the run in MLflow, or why tracking was skipped (README "Experiment tracking (MLflow)"); null: not configured',
    ),
  error: z.string().nullable(),
});
export type RunStatus = z.infer<typeof RunStatus>;

export const ApprovalInput = z
  .object({
    by: z.string().trim().min(1, 'name who decides'),
    comment: z.string().default(''),
    token: z.string().optional().describe('signed approval token (when the model requires one)'),
    idToken: z
      .string()
      .optional()
      .describe('OpenID Connect ID token of who decides (ct login); required where identities are verified'),
  })
  .strict();
export type ApprovalInput = z.input<typeof ApprovalInput>;

/** What Update approve/reject returns: the decision once made, and the count towards the quorum. */
export const ApprovalResult = z.object({
  decision: Decision.nullable(),
  approvals: z.number().int(),
  quorum: z.number().int(),
});
export type ApprovalResult = z.infer<typeof ApprovalResult>;

/** A short, human-readable progress line for the Web UI's current details. */
export function describeStatus(s: RunStatus): string {
  const lines = [
    `**${s.modelId}** — stage **${s.stage}** (${s.outcome}) · trigger ${s.trigger.kind} by ${s.trigger.requestedBy}`,
  ];
  const t = s.training;
  if (s.sweep) lines.push(sweepLine(s.sweep));
  if (t && (s.stage === 'train' || s.stage === 'sweep' || s.stage === 'evaluate')) {
    lines.push(
      `training${t.trial ? ` ${t.trial}` : ''}: step ${t.step}${t.totalSteps ? `/${t.totalSteps}` : ''} · epoch ${t.epoch} · loss ${t.loss?.toFixed(4) ?? '—'} · ${t.samplesPerSec?.toFixed(0) ?? '—'} samples/s · attempt ${t.attempt} on ${t.device ?? '?'}`,
    );
    if (t.checkpointKey) lines.push(`last checkpoint: ${t.checkpointKey}`);
  }
  if (s.verdict) lines.push(`gate: ${s.verdict.passed ? 'passed' : 'failed'} — ${s.verdict.reasons.join('; ')}`);
  if (s.stage === 'approval' && !s.decision) lines.push(waitingLine(s.approval));
  if (s.decision) lines.push(`decision: ${s.decision.outcome} by ${s.decision.by}`);
  if (s.registered) lines.push(`registered v${s.registered.version}${s.registered.promoted ? ' (champion)' : ''}`);
  if (s.tracking)
    lines.push('skipped' in s.tracking ? `tracking skipped: ${s.tracking.skipped}` : `MLflow: ${s.tracking.url}`);
  if (s.error) lines.push(`error: ${s.error}`);
  return lines.join('\n\n');
}

/** `sweep on accuracy (maximize), halving · t01 finished 0.93 · t02 stopped 0.71 @60 · … · winner t01` */
export function sweepLine(sw: SweepStatus): string {
  const trial = (t: SweepStatus['trials'][number]) =>
    `${t.name} ${t.state}${t.metric === null ? '' : ` ${Number(t.metric.toPrecision(4))}`}${t.state === 'stopped' ? ` @${t.step}` : ''}`;
  const head = `sweep on ${sw.metric.name} (${sw.metric.goal})${sw.halving ? `, halving at steps ${sw.rungs.join(', ') || '…'}` : ''}`;
  return [head, ...sw.trials.map(trial), ...(sw.winner ? [`winner ${sw.winner}`] : [])].join(' · ');
}

/** How long until a deadline, coarse enough for a countdown line: 42s, 3m, 1h 05m, 2d 4h. */
export function timeUntil(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/**
 * `waiting for approval by alice, bob (1/2) · next: reminder at <iso>`; given `now`, the deadline is counted down
 * (`· reminder in 3m (at <iso>)`).
 */
export function waitingLine(a: ApprovalWait | null, now?: number): string {
  if (!a) return 'waiting for approval (Update `approve` or `reject`)';
  const who = a.approvers.length ? a.approvers.join(', ') : 'anyone but the requester';
  const next = !a.next
    ? ''
    : now === undefined
      ? ` · next: ${a.next.kind} at ${a.next.at}`
      : ` · ${a.next.kind} in ${timeUntil(Date.parse(a.next.at) - now)} (at ${a.next.at})`;
  return `waiting for approval by ${who} (${a.approvals.length}/${a.quorum}${a.escalated ? ', escalated' : ''})${next}`;
}
