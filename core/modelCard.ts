// The model card: everything needed to trust, reproduce or roll back a registered version.
import { z } from 'zod';
import { Decision, EvaluationReport, GateVerdict, PreparedData, TrainingResult } from './reports';
import { TriggerKind } from './runInput';

export const ModelCard = z.object({
  modelId: z.string(),
  version: z.number().int(),
  createdAt: z.string(),
  run: z.object({
    workflowId: z.string(),
    runId: z.string(),
    trigger: z.object({ kind: TriggerKind, requestedBy: z.string(), reason: z.string() }),
  }),
  artifactKey: z.string(),
  artifactSha256: z.string(),
  gitCommit: z.string(),
  trainer: z.object({
    command: z.array(z.string()),
    device: z.string(),
    steps: z.number(),
    seconds: z.number(),
    attempt: z.number(),
  }),
  parameters: z.object({ hyperparameters: z.record(z.string(), z.unknown()), seed: z.number() }),
  data: z.object({
    datasetKeys: z.array(z.string()),
    sourceDigests: z.record(z.string(), z.string()),
    splits: PreparedData.shape.splits,
  }),
  evaluation: EvaluationReport,
  gate: GateVerdict,
  /** Null while the version is the challenger awaiting approval. */
  decision: Decision.nullable(),
  training: TrainingResult,
  /** The run's fingerprint (absent on cards of older versions) and the run whose training it reused, if any. */
  fingerprint: z.string().optional(),
  reusedFrom: z.object({ workflowId: z.string(), runId: z.string() }).optional(),
});
export type ModelCard = z.infer<typeof ModelCard>;

export const Alias = z.object({ version: z.number().int(), runId: z.string(), updatedAt: z.string() });
export type Alias = z.infer<typeof Alias>;

const f4 = (x: number | undefined) => (x === undefined ? '—' : Number.isFinite(x) ? x.toFixed(4) : String(x));

export function renderModelCardMarkdown(card: ModelCard): string {
  const { candidate, champion } = card.evaluation;
  const metrics = Object.keys(candidate.overall) as (keyof typeof candidate.overall)[];
  const task = card.evaluation.task ?? 'binary';
  // The metrics the slices carry: rocAuc and accuracy for a binary model, recall for per-class slices …
  const sliceMetrics = [...new Set(candidate.slices.flatMap((s) => Object.keys(s.metrics)))].filter(
    (m) => m !== 'rows' && (task !== 'binary' || m === 'rocAuc' || m === 'accuracy'),
  ) as (keyof typeof candidate.overall)[];
  const lines = [
    `# ${card.modelId} v${card.version}`,
    '',
    `Registered ${card.createdAt} by run \`${card.run.workflowId}\` (trigger: ${card.run.trigger.kind}, by ${card.run.trigger.requestedBy}${card.run.trigger.reason ? `: ${card.run.trigger.reason}` : ''}).`,
    '',
    '## Metrics (holdout)',
    '',
    `| metric | v${card.version} | ${champion ? `champion v${champion.version}` : 'champion'} |`,
    '|---|---|---|',
    ...metrics.map((m) => `| ${m} | ${f4(candidate.overall[m])} | ${f4(champion?.overall[m])} |`),
    '',
    `Task ${task}. Holdout: ${card.evaluation.holdoutRows} rows, sha256 \`${card.evaluation.holdoutSha256}\`${task === 'binary' ? `, threshold ${card.evaluation.threshold}` : ''}.`,
    '',
    ...(candidate.slices.length
      ? [
          `## Slices by ${card.evaluation.sliceBy}`,
          '',
          `| slice | rows | ${sliceMetrics.join(' | ')} |`,
          `|---|---|${sliceMetrics.map(() => '---|').join('')}`,
          ...candidate.slices.map(
            (s) => `| ${s.value} | ${s.rows} | ${sliceMetrics.map((m) => f4(s.metrics[m])).join(' | ')} |`,
          ),
          '',
        ]
      : []),
    '## Gate',
    '',
    `${card.gate.passed ? 'Passed' : 'Failed'}: ${card.gate.reasons.join('; ')}`,
    '',
    '## Decision',
    '',
    card.decision
      ? `${card.decision.outcome} by ${card.decision.by} (${card.decision.mode})${card.decision.comment ? `: ${card.decision.comment}` : ''}`
      : 'pending: this version is the challenger, awaiting approval',
    '',
    ...(card.decision?.approvals ?? []).map(
      (a) => `- approved by ${a.by} at ${a.at}${a.comment ? `: ${a.comment}` : ''}`,
    ),
    ...(card.decision?.evidence ?? []).map((e) => `- policy evidence: ${e}`),
    ...(card.gate.comparison
      ? [
          `- comparison: ${card.gate.comparison.method} on ${card.gate.comparison.metric}, improvement ${card.gate.comparison.estimate.toFixed(4)}${card.gate.comparison.lower !== null ? ` (${card.gate.comparison.confidence * 100}% CI ${card.gate.comparison.lower.toFixed(4)} … ${card.gate.comparison.upper?.toFixed(4)})` : ''}`,
        ]
      : []),
    '',
    '## Lineage',
    '',
    `- git commit: \`${card.gitCommit}\``,
    `- trainer: \`${card.trainer.command.join(' ')}\` on ${card.trainer.device}, ${card.trainer.steps} steps, ${card.trainer.seconds.toFixed(1)} s`,
    `- parameters: seed ${card.parameters.seed}, \`${JSON.stringify(card.parameters.hyperparameters)}\``,
    ...card.data.datasetKeys.map((k) => `- data \`${k}\` sha256 \`${card.data.sourceDigests[k] ?? '?'}\``),
    ...Object.entries(card.data.splits).map(
      ([name, s]) => `- ${name}: ${s.rows} rows, ${s.from} → ${s.to}, sha256 \`${s.sha256}\``,
    ),
    `- artifact: \`${card.artifactKey}\` sha256 \`${card.artifactSha256}\``,
    '',
  ];
  return lines.join('\n');
}
