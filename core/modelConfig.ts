// The per-model configuration: one YAML or JSON file per model, the single source of truth
// for what the data must look like, how features are derived, how the trainer runs and what the gate demands.
import { z } from 'zod';
import { DriftSettings } from './drift/settings';
import { ALL_NOTIFICATION_KINDS, NotificationKind } from './notifications';
import { ObjectKeyPrefix } from './objectKey';
import { SweepSettings, sweepIssues } from './sweep';
import { DEFAULT_COMPARISON_METRIC, MetricName, TaskKind, metricProblem } from './taskKind';
import { TRAINER_HYPERPARAMETERS, TrainerName } from './trainerHyperparameters';

export const MODEL_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const ModelId = z
  .string()
  .regex(MODEL_ID_PATTERN, 'model ids are 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit');

export const ColumnType = z.enum(['integer', 'number', 'string', 'timestamp', 'boolean']);
export type ColumnType = z.infer<typeof ColumnType>;

export const ColumnRule = z
  .object({
    type: ColumnType,
    nullable: z.boolean().default(false).describe('whether null/missing values are allowed at all'),
    min: z.number().optional().describe('smallest allowed value (numeric columns)'),
    max: z.number().optional().describe('largest allowed value (numeric columns)'),
    allowed: z.array(z.string()).min(1).optional().describe('allowed categories (string columns)'),
  })
  .strict()
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
    message: 'min must not exceed max',
    path: ['min'],
  });
export type ColumnRule = z.infer<typeof ColumnRule>;

export const FeatureTransform = z.enum(['identity', 'hourOfDay', 'dayOfWeek']);
export type FeatureTransform = z.infer<typeof FeatureTransform>;

export const FeatureSpec = z
  .object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'feature names are identifiers'),
    type: z.enum(['numeric', 'categorical']),
    source: z.string().min(1).describe('dataset column the feature is derived from'),
    transform: FeatureTransform.default('identity'),
  })
  .strict();
export type FeatureSpec = z.infer<typeof FeatureSpec>;

export const ComparisonOp = z.enum(['>', '>=', '<', '<=', '==']);
export type ComparisonOp = z.infer<typeof ComparisonOp>;

export const LabelSpec = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .default('label'),
    source: z.string().min(1),
    positiveWhen: z
      .object({ op: ComparisonOp, value: z.number() })
      .strict()
      .optional()
      .describe('binary: the rule that makes a source value positive; without it the source must hold 0/1'),
    classes: z
      .int()
      .min(3)
      .max(1000)
      .optional()
      .describe('multiclass: the number of classes; the source holds integer classes 0..classes-1'),
  })
  .strict();
export type LabelSpec = z.infer<typeof LabelSpec>;

export { MetricName };
const MetricBounds = z.partialRecord(MetricName, z.number());
const Duration = z.string().regex(/^\d+(\.\d+)?[smhd]$/, 'a duration like 90s, 30m, 4h or 2d');

/** Where runs are logged for people who look at MLflow (README "Experiment tracking (MLflow)"). */
export const Tracking = z
  .object({
    mlflow: z
      .object({
        uri: z
          .url({ protocol: /^https?$/, error: "the MLflow tracking server's http(s) URL, e.g. http://127.0.0.1:5000" })
          .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), {
            error:
              'no credentials in the URI (it is kept in workflow history): set MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD on the control worker',
          })
          .describe('the MLflow tracking server (its REST API and its mlflow-artifacts proxy)'),
        experiment: z.string().trim().min(1, 'name the MLflow experiment').max(500).describe('created when missing'),
        registeredModel: z
          .string()
          .trim()
          .min(1)
          .max(256)
          .optional()
          .describe('MLflow registered model that promoted versions go to (alias champion); default: the model id'),
      })
      .strict(),
  })
  .strict();
export type Tracking = z.infer<typeof Tracking>;

export const ModelConfig = z
  .object({
    modelId: ModelId,
    description: z.string().optional(),
    task: TaskKind.default('binary').describe(
      'binary (label 0/1), multiclass (label.classes integer classes) or regression (numeric label): decides the metrics, the gate and what the trainer predicts',
    ),
    dataset: z
      .object({
        format: z.enum(['parquet', 'csv']),
        timeColumn: z.string().min(1).describe('column that orders rows in time (used by the time-aware split)'),
        columns: z
          .record(z.string(), ColumnRule)
          .refine((c) => Object.keys(c).length > 0, 'declare at least one column'),
        minRows: z.number().int().min(1).default(1000),
        labelBalance: z
          .object({ minPositiveFraction: z.number().min(0).max(1), maxPositiveFraction: z.number().min(0).max(1) })
          .strict()
          .optional(),
        sampleRows: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe('cap on rows used per run: a seeded uniform sample keeps runs fast on small machines'),
      })
      .strict(),
    features: z.array(FeatureSpec).min(1),
    label: LabelSpec,
    split: z
      .object({
        validationFraction: z.number().gt(0).lt(1).default(0.1),
        holdoutFraction: z.number().gt(0).lt(1).default(0.2),
      })
      .strict()
      .default({ validationFraction: 0.1, holdoutFraction: 0.2 })
      .refine(
        (s) => s.validationFraction + s.holdoutFraction < 0.9,
        'validation + holdout must leave at least 10% for training',
      ),
    seed: z.number().int().min(0).default(42),
    trainer: z
      .object({
        command: z
          .array(z.string().min(1))
          .min(1)
          .describe('argv of the trainer; "train"/"predict" and --config are appended'),
        hyperparameterRules: TrainerName.optional().describe(
          'the known trainer whose hyperparameter schema applies (flight-delay: trainers/flight_delay); hyperparameters are then checked when the config is registered',
        ),
        device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
        backend: z
          .enum(['local', 'ray'])
          .default('local')
          .describe(
            "where an attempt runs: local (a process on the GPU worker's host; torchrun for workers > 1) or ray (a job on the Ray cluster of the worker's ray.address, ranks placed by Ray Train)",
          ),
        workers: z
          .number()
          .int()
          .min(1)
          .max(256)
          .default(1)
          .describe(
            'data-parallel ranks (torch.distributed: gloo on CPU, NCCL on GPU); the trainer must support it (trainers/PROTOCOL.md, "Data-parallel training")',
          ),
        ray: z
          .object({
            resourcesPerWorker: z
              .record(z.string().min(1), z.number().min(0))
              .default({ CPU: 1 })
              .describe('Ray resources each rank holds, e.g. {"CPU": 4, "GPU": 1}'),
            placement: z
              .enum(['SPREAD', 'PACK'])
              .default('SPREAD')
              .describe('SPREAD: ranks on different nodes where they can be; PACK: as few nodes as possible'),
          })
          .strict()
          .default({ resourcesPerWorker: { CPU: 1 }, placement: 'SPREAD' })
          .describe('with backend ray'),
        timeoutMinutes: z.number().positive().default(120),
        heartbeatTimeoutSeconds: z
          .number()
          .int()
          .min(5)
          .default(60)
          .describe('a trainer silent this long is stalled: its process tree is killed and the attempt retried'),
        keepCheckpoints: z
          .number()
          .int()
          .min(1)
          .default(3)
          .describe('checkpoints kept in S3 per run; older ones are deleted'),
        maxPendingCheckpoints: z
          .number()
          .int()
          .min(1)
          .default(3)
          .describe(
            'checkpoints kept on local disk while the object store is unreachable; beyond this the oldest are dropped',
          ),
        stopGraceSeconds: z
          .number()
          .int()
          .min(1)
          .default(30)
          .describe('after SIGTERM (checkpoint now), SIGKILL follows this much later'),
        checkpoint: z
          .object({ everySteps: z.number().int().min(0).default(200), everySeconds: z.number().min(0).default(60) })
          .strict()
          .default({ everySteps: 200, everySeconds: 60 }),
        codeVersion: z
          .string()
          .trim()
          .min(1)
          .max(200)
          .optional()
          .describe(
            "the trainer code's version (an image digest, a release) for the run fingerprint; default: the SHA-256 of the trainer's files (the folder of each file in command, and the trainer SDK trainers/ct_trainer beside it)",
          ),
      })
      .strict(),
    hyperparameters: z.record(z.string(), z.unknown()).default({}),
    preflight: z
      .object({
        enabled: z.boolean().default(true),
        steps: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(2)
          .describe('optimizer steps of the smoke run; a checkpoint is written at the last, loaded, and one more run'),
        rows: z
          .number()
          .int()
          .min(2)
          .max(100_000)
          .default(256)
          .describe('rows of each of the train and validation splits the smoke run trains on (evenly spread)'),
        timeoutSeconds: z
          .number()
          .int()
          .min(10)
          .max(900)
          .default(300)
          .describe('the smoke run (both trainer runs) fails when it takes longer'),
      })
      .strict()
      .default({ enabled: true, steps: 2, rows: 256, timeoutSeconds: 300 })
      .describe(
        'before the training is queued for a GPU, the trainer runs a few steps on a tiny slice on CPU on the control worker, saves a checkpoint and resumes from it; a failure ends the run as a config or data error with no GPU time spent',
      ),
    sweep: SweepSettings.optional().describe(
      'a hyperparameter sweep instead of one training: trials over a search space, weak ones stopped at rungs (README "Sweeps")',
    ),
    reuse: z
      .enum(['identical', 'never'])
      .default('identical')
      .describe(
        'identical: a run whose fingerprint (data splits, features, label, trainer, hyperparameters, code, seed) matches a finished training reuses that trained model instead of training again; never: always train',
      ),
    evaluation: z
      .object({
        threshold: z.number().gt(0).lt(1).default(0.5),
        sliceBy: z.string().optional().describe('feature whose values define per-slice metrics'),
        minSliceRows: z.number().int().min(1).default(200),
        maxSlices: z.number().int().min(1).default(20),
      })
      .strict()
      .default({ threshold: 0.5, minSliceRows: 200, maxSlices: 20 }),
    gate: z
      .object({
        minimum: MetricBounds.default({}).describe('candidate metric must be at least this (higher-is-better metrics)'),
        maximum: MetricBounds.default({}).describe('candidate metric must be at most this (lower-is-better metrics)'),
        maxRegression: MetricBounds.default({}).describe(
          'largest allowed worsening vs the champion, direction-aware (a drop for rocAuc, a rise for logLoss)',
        ),
        maxRelativeRegression: MetricBounds.default({}).describe(
          "largest allowed worsening as a fraction of the champion's value (0.02 = 2%)",
        ),
        comparison: z
          .object({
            method: z
              .enum(['point', 'bootstrap', 'mcnemar'])
              .default('point')
              .describe(
                'point: compare point estimates; bootstrap: the lower bound of a paired bootstrap CI of the improvement must stay above -maxRegression (non-inferiority); mcnemar: fail when the candidate is significantly less accurate',
              ),
            metric: MetricName.optional().describe(
              'metric the bootstrap compares (mcnemar always uses accuracy); default rocAuc (binary), accuracy (multiclass), rmse (regression)',
            ),
            confidence: z.number().gt(0.5).lt(1).default(0.95),
            resamples: z.number().int().min(100).max(100_000).default(1000),
          })
          .strict()
          .default({ method: 'point', confidence: 0.95, resamples: 1000 }),
        slices: z
          .object({
            metric: MetricName,
            maxRegression: z.number().min(0),
            minRows: z.number().int().min(1).default(200),
          })
          .strict()
          .optional()
          .describe(
            'per-slice rule (slices of evaluation.sliceBy): no slice with enough rows may regress more than this',
          ),
        noChampion: z
          .enum(['absolute-only', 'reject'])
          .default('absolute-only')
          .describe('what the gate does when there is no champion yet'),
      })
      .strict()
      .default({
        minimum: {},
        maximum: {},
        maxRegression: {},
        maxRelativeRegression: {},
        comparison: { method: 'point', confidence: 0.95, resamples: 1000 },
        noChampion: 'absolute-only',
      }),
    approval: z
      .object({
        mode: z
          .enum(['auto', 'manual', 'policy'])
          .default('manual')
          .describe('policy: auto-approve when autoApprove holds, else ask people'),
        roles: z
          .record(z.string(), z.array(z.string().min(1)))
          .default({})
          .describe(
            'role → members; where identities are verified (identity mode oidc), whoever has the role name in their roles claim (e.g. groups) is a member too: leave the list empty to manage a role in the identity provider',
          ),
        approverRoles: z.array(z.string()).default([]).describe('roles whose members may decide; empty: anyone'),
        escalationRoles: z.array(z.string()).default([]).describe('roles added after escalateAfter'),
        quorum: z.number().int().min(1).default(1).describe('distinct approvals needed'),
        signedApprovals: z
          .boolean()
          .default(false)
          .describe('approvals need an HMAC token issued for the approver and the run (ct token)'),
        reminderAfter: Duration.optional(),
        escalateAfter: Duration.optional(),
        rejectAfter: Duration.optional().describe('no decision by then: rejected automatically'),
        notifyUrl: z
          .url()
          .optional()
          .describe(
            'deprecated: use notifications.url. Still sends reminders and escalations (the notifications body) when notifications is not set',
          ),
        autoApprove: z
          .object({ minMargin: MetricBounds.default({}), noSliceRegression: z.boolean().default(true) })
          .strict()
          .optional(),
        rollback: z
          .object({
            roles: z
              .array(z.string())
              .default([])
              .describe('roles whose members may move the champion back (ct rollback); empty: the approver roles'),
            allowOverride: z
              .boolean()
              .default(false)
              .describe(
                'members of the escalation roles may roll back to a version that was never approved, with --override and a reason (audited)',
              ),
          })
          .strict()
          .default({ roles: [], allowOverride: false })
          .describe(
            'who may roll back; rollback needs a role: with neither rollback.roles nor approverRoles it is refused',
          ),
      })
      .strict()
      .default({
        mode: 'manual',
        roles: {},
        approverRoles: [],
        escalationRoles: [],
        quorum: 1,
        signedApprovals: false,
        rollback: { roles: [], allowOverride: false },
      }),
    continuousTraining: z
      .object({
        data: z
          .object({
            prefix: ObjectKeyPrefix.describe(
              'key prefix under which new data windows land, one file per window; key order is time order',
            ),
            checkWindows: z
              .number()
              .int()
              .min(1)
              .default(1)
              .describe('newest files a scheduled drift check profiles as the current window'),
            trainWindows: z
              .number()
              .int()
              .min(1)
              .default(1)
              .describe('newest files a retrain started by the supervisor trains on'),
          })
          .strict()
          .optional()
          .describe('where the supervisor and drift checks find data; without it only explicit dataset keys work'),
        cooldown: Duration.default('6h').describe(
          'after a retrain finishes, drift reports attach to its incident this long instead of starting another run',
        ),
        manualWhilePaused: z
          .boolean()
          .default(false)
          .describe('whether requestRetrain by a person starts a run while the supervisor is paused'),
      })
      .strict()
      .default({ cooldown: '6h', manualWhilePaused: false }),
    notifications: z
      .object({
        url: z.url().describe('webhook that receives each event as a Slack-compatible JSON body (POST)'),
        events: z
          .array(NotificationKind)
          .min(1)
          .default([...ALL_NOTIFICATION_KINDS])
          .describe('which events are sent; default: all'),
        webUiUrl: z
          .url()
          .optional()
          .describe('Temporal Web UI base (e.g. http://localhost:8233): messages link to the run'),
        retry: z
          .object({
            initialInterval: Duration.default('5s').describe(
              'first retry after this; doubles each time, up to 1 minute',
            ),
            maximumAttempts: z.number().int().min(1).max(20).default(5),
          })
          .strict()
          .default({ initialInterval: '5s', maximumAttempts: 5 })
          .describe(
            'a 5xx or unreachable receiver is retried; a 4xx is not; after the last attempt the run logs a warning and goes on',
          ),
      })
      .strict()
      .optional()
      .describe('webhook notifications to people (README "Notifications")'),
    tracking: Tracking.optional().describe(
      'experiment tracking: every run logged to an MLflow tracking server (README "Experiment tracking (MLflow)")',
    ),
    drift: DriftSettings.prefault({}).describe(
      'drift detection: methods, thresholds, correction, persistence (README "Drift detection")',
    ),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const columns = cfg.dataset.columns;
    if (!(cfg.dataset.timeColumn in columns)) {
      ctx.addIssue({
        code: 'custom',
        path: ['dataset', 'timeColumn'],
        message: `"${cfg.dataset.timeColumn}" is not a declared column`,
      });
    }
    cfg.features.forEach((f, i) => {
      if (!(f.source in columns)) {
        ctx.addIssue({
          code: 'custom',
          path: ['features', i, 'source'],
          message: `"${f.source}" is not a declared column`,
        });
      }
      if (f.transform !== 'identity' && columns[f.source]?.type !== 'timestamp') {
        ctx.addIssue({
          code: 'custom',
          path: ['features', i, 'transform'],
          message: `${f.transform} needs a timestamp column`,
        });
      }
    });
    const names = cfg.features.map((f) => f.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['features'], message: `feature "${dup}" is declared twice` });
    if (names.includes(cfg.label.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['label', 'name'],
        message: `label name "${cfg.label.name}" clashes with a feature`,
      });
    }
    if (!(cfg.label.source in columns)) {
      ctx.addIssue({
        code: 'custom',
        path: ['label', 'source'],
        message: `"${cfg.label.source}" is not a declared column`,
      });
    }
    for (const issue of taskIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
    const roleLists = [
      [['approverRoles'], cfg.approval.approverRoles],
      [['escalationRoles'], cfg.approval.escalationRoles],
      [['rollback', 'roles'], cfg.approval.rollback.roles],
    ] as const;
    for (const [field, roles] of roleLists) {
      for (const role of roles) {
        if (!(role in cfg.approval.roles))
          ctx.addIssue({
            code: 'custom',
            path: ['approval', ...field],
            message: `role "${role}" is not defined in approval.roles`,
          });
      }
    }
    if (cfg.approval.rollback.allowOverride && cfg.approval.escalationRoles.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['approval', 'rollback', 'allowOverride'],
        message: 'overrides are made by the escalation roles: define approval.escalationRoles',
      });
    }
    const members = new Set(cfg.approval.approverRoles.flatMap((r) => cfg.approval.roles[r] ?? []));
    // A role with no members listed is managed in the identity provider (its groups): its size is not known here.
    const listed = cfg.approval.approverRoles.every((r) => (cfg.approval.roles[r] ?? []).length > 0);
    if (cfg.approval.approverRoles.length > 0 && listed && members.size < cfg.approval.quorum) {
      ctx.addIssue({
        code: 'custom',
        path: ['approval', 'quorum'],
        message: `quorum ${cfg.approval.quorum} exceeds the ${members.size} members of the approver roles`,
      });
    }
    if (cfg.notifications && cfg.approval.notifyUrl !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['approval', 'notifyUrl'],
        message:
          'approval.notifyUrl is deprecated and cannot be combined with notifications: remove it (notifications.url receives reminders and escalations too)',
      });
    }
    if (cfg.approval.mode === 'policy' && !cfg.approval.autoApprove) {
      ctx.addIssue({
        code: 'custom',
        path: ['approval', 'autoApprove'],
        message: 'mode "policy" needs an autoApprove rule',
      });
    }
    if (cfg.evaluation.sliceBy !== undefined && !names.includes(cfg.evaluation.sliceBy)) {
      ctx.addIssue({
        code: 'custom',
        path: ['evaluation', 'sliceBy'],
        message: `"${cfg.evaluation.sliceBy}" is not a feature`,
      });
    }
    const rules = cfg.trainer.hyperparameterRules;
    const hp = rules ? TRAINER_HYPERPARAMETERS[rules].safeParse(cfg.hyperparameters) : undefined;
    for (const issue of hp?.error?.issues ?? []) {
      ctx.addIssue({
        code: 'custom',
        path: ['hyperparameters', ...issue.path],
        message: `${issue.message} (rules of trainer ${rules})`,
      });
    }
    if (cfg.sweep)
      for (const issue of sweepHyperparameterIssues(cfg, cfg.sweep)) ctx.addIssue({ code: 'custom', ...issue });
    for (const name of Object.keys(cfg.drift.features)) {
      if (!names.includes(name))
        ctx.addIssue({
          code: 'custom',
          path: ['drift', 'features', name],
          message: `drift override for "${name}": not a declared feature`,
        });
    }
  });
export type ModelConfig = z.infer<typeof ModelConfig>;

type Issue = { path: (string | number)[]; message: string };

/** The label, metrics and comparison a config names must fit its task (a binary label with 10 classes does not). */
function taskIssues(cfg: ModelConfig): Issue[] {
  const { task, label, gate } = cfg;
  const issues: Issue[] = [];
  const rule = cfg.dataset.columns[label.source];
  if (task !== 'binary' && label.positiveWhen)
    issues.push({ path: ['label', 'positiveWhen'], message: `positiveWhen makes a binary label; task is ${task}` });
  if (task !== 'multiclass' && label.classes !== undefined)
    issues.push({ path: ['label', 'classes'], message: `classes is for task multiclass; task is ${task}` });
  if (task !== 'binary' && cfg.dataset.labelBalance)
    issues.push({ path: ['dataset', 'labelBalance'], message: `labelBalance is for task binary; task is ${task}` });
  if (
    task === 'binary' &&
    !label.positiveWhen &&
    rule &&
    (rule.min ?? 0) >= 0 &&
    rule.max !== undefined &&
    rule.max > 1
  )
    issues.push({
      path: ['label'],
      message: `task binary without label.positiveWhen needs a 0/1 label, but column "${label.source}" allows values up to ${rule.max}: use task multiclass with label.classes ${rule.max + 1}, or add positiveWhen`,
    });
  if (task === 'multiclass') {
    if (label.classes === undefined)
      issues.push({
        path: ['label', 'classes'],
        message: 'task multiclass needs label.classes (the number of classes)',
      });
    else if (rule?.max !== undefined && rule.max > label.classes - 1)
      issues.push({
        path: ['label', 'classes'],
        message: `label.classes is ${label.classes} (classes 0..${label.classes - 1}) but column "${label.source}" allows values up to ${rule.max}`,
      });
    if (rule && rule.type !== 'integer')
      issues.push({
        path: ['label', 'source'],
        message: `a multiclass label needs an integer column; "${label.source}" is ${rule.type}`,
      });
  }
  if (task === 'regression' && rule && rule.type !== 'integer' && rule.type !== 'number')
    issues.push({
      path: ['label', 'source'],
      message: `a regression label needs a numeric column; "${label.source}" is ${rule.type}`,
    });
  if (task === 'regression' && gate.comparison.method === 'mcnemar')
    issues.push({
      path: ['gate', 'comparison', 'method'],
      message: 'mcnemar compares per-example correctness, which regression has not: use bootstrap',
    });
  const named: [(string | number)[], MetricName][] = [
    ...(['minimum', 'maximum', 'maxRegression', 'maxRelativeRegression'] as const).flatMap((rule) =>
      (Object.keys(gate[rule]) as MetricName[]).map((m): [(string | number)[], MetricName] => [['gate', rule, m], m]),
    ),
    ...(Object.keys(cfg.approval.autoApprove?.minMargin ?? {}) as MetricName[]).map(
      (m): [(string | number)[], MetricName] => [['approval', 'autoApprove', 'minMargin', m], m],
    ),
  ];
  if (gate.comparison.metric) named.push([['gate', 'comparison', 'metric'], gate.comparison.metric]);
  if (gate.slices) named.push([['gate', 'slices', 'metric'], gate.slices.metric]);
  for (const [path, metric] of named) {
    const problem = metricProblem(task, metric);
    if (problem) issues.push({ path, message: problem });
  }
  return issues;
}

/**
 * A sweep's own problems, and swept hyperparameters the trainer does not take: with hyperparameterRules, names not in
 * the trainer's schema and values it refuses; without, names with no base value (a typo would otherwise show only as
 * a trial's config error after the sweep started).
 */
function sweepHyperparameterIssues(cfg: ModelConfig, sweep: SweepSettings): Issue[] {
  const issues = sweepIssues(sweep);
  const rules = cfg.trainer.hyperparameterRules;
  const schema = rules ? TRAINER_HYPERPARAMETERS[rules] : undefined;
  for (const [name, dim] of Object.entries(sweep.space)) {
    const path = ['sweep', 'space', name];
    if (schema && !(name in schema.shape)) {
      const known = Object.keys(schema.shape).join(', ');
      issues.push({ path, message: `"${name}" is not a hyperparameter of trainer ${rules} (it takes ${known})` });
      continue;
    }
    if (!schema && !(name in cfg.hyperparameters)) {
      issues.push({
        path,
        message: `"${name}" is not among hyperparameters: without trainer.hyperparameterRules, a swept hyperparameter needs a base value there`,
      });
      continue;
    }
    const tried = 'values' in dim ? dim.values : [dim.min, dim.max];
    tried.forEach((value, i) => {
      const problem = schema?.safeParse({ ...cfg.hyperparameters, [name]: value }).error?.issues[0];
      if (problem)
        issues.push({
          path: [...path, ...('values' in dim ? ['values', i] : [i === 0 ? 'min' : 'max'])],
          message: `${JSON.stringify(value)}: ${problem.message} (rules of trainer ${rules})`,
        });
    });
  }
  return issues;
}

/** The metric a bootstrap comparison uses: the configured one, else the task's default. */
export function comparisonMetric(cfg: Pick<ModelConfig, 'task' | 'gate'>): MetricName {
  return cfg.gate.comparison.metric ?? DEFAULT_COMPARISON_METRIC[cfg.task];
}
export type ModelConfigInput = z.input<typeof ModelConfig>;
