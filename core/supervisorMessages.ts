// The messages of continuous training, one zod schema each (exported as JSON Schema): what alert sources,
// people, schedules and any Temporal client send to a model's supervisor, and what it answers.
import { z } from 'zod';
import { ObjectKey } from './objectKey';
import type { SupervisorState } from './continuousTraining';
import { ModelId } from './modelConfig';
import { TriggerKind } from './runInput';

/** A drift alert: from a scheduled driftCheck, the webhook or any Temporal client (exported as JSON Schema). */
export const DriftAlert = z
  .object({
    alertId: z.string().min(1).max(200).describe('unique per alert: a replayed id is recorded once'),
    modelId: ModelId,
    source: z
      .string()
      .min(1)
      .max(100)
      .default('external')
      .describe('who detected it: drift-check, a monitoring system, ...'),
    datasetDrift: z.boolean().describe("the detector's dataset-level verdict"),
    driftedShare: z.number().min(0).max(1).optional(),
    driftedFeatures: z.array(z.string().min(1)).default([]).describe('must name features of the model'),
    detectedAt: z.iso.datetime({ offset: true }).optional(),
    reportKey: ObjectKey.optional().describe('object key of the full drift report'),
    window: z.array(ObjectKey).optional().describe('object keys of the data window that was checked'),
    championVersion: z
      .number()
      .int()
      .min(1)
      .nullable()
      .optional()
      .describe('the version whose reference profile was used'),
  })
  .strict();
export type DriftAlert = z.infer<typeof DriftAlert>;
export type DriftAlertJson = z.input<typeof DriftAlert>;

/** Pausing or resuming a supervisor (Updates pauseSupervisor / resumeSupervisor). */
export const PauseRequest = z
  .object({
    by: z.string().min(1).max(200).describe('who pauses or resumes (declared; verified where identities are)'),
    reason: z.string().max(2000).default(''),
    idToken: z
      .string()
      .optional()
      .describe('OpenID Connect ID token of who acts (ct login); required where identities are verified'),
  })
  .strict();
export type PauseRequestJson = z.input<typeof PauseRequest>;

/** A request to retrain now, by a person (manual) or a retraining schedule. */
export const RetrainRequest = z
  .object({
    requestId: z.string().min(1).max(200).optional().describe('idempotency key: a repeated id is recorded once'),
    kind: TriggerKind.exclude(['drift']).default('manual'),
    requestedBy: z.string().min(1).max(200),
    idToken: z
      .string()
      .optional()
      .describe(
        'OpenID Connect ID token of who asks (ct login); required for manual requests where identities are verified',
      ),
    reason: z.string().min(1).max(2000),
    datasetKeys: z
      .array(ObjectKey)
      .min(1)
      .optional()
      .describe('train on these files; default: the newest continuousTraining.data windows'),
  })
  .strict();
export type RetrainRequest = z.infer<typeof RetrainRequest>;
export type RetrainRequestJson = z.input<typeof RetrainRequest>;

/** The answer to a report or request: what it did (started a run, joined the open incident, ...). */
export const SupervisorAck = z.object({
  action: z.enum(['started', 'attached', 'recorded', 'duplicate', 'paused']),
  incidentId: z.string().nullable(),
  message: z.string(),
});
export type SupervisorAck = z.infer<typeof SupervisorAck>;

/** The input of the continuousTraining workflow (id ct/<modelId>); `carried` is its own state across continue-as-new. */
export const SupervisorInput = z
  .object({
    modelId: ModelId,
    historyLimit: z
      .number()
      .int()
      .min(50)
      .default(10_000)
      .describe('continue as new once the history has this many events (or the server suggests it)'),
    runCheckSeconds: z
      .number()
      .min(1)
      .default(600)
      .describe(
        'how often a run inherited from an earlier generation is checked when its end notice does not come (terminated, timed out)',
      ),
    runPollSeconds: z
      .number()
      .min(0.1)
      .default(5)
      .describe('kept for the supervisors of earlier builds, whose watching activity polls the run at this interval'),
    carried: z
      .custom<SupervisorState>((v) => typeof v === 'object' && v !== null)
      .optional()
      .describe('internal: state handed over on continue-as-new'),
  })
  .strict();
export type SupervisorInput = z.infer<typeof SupervisorInput>;
export type SupervisorInputJson = z.input<typeof SupervisorInput>;

/** Signal runFinished: a run tells its supervisor that it ends (a nudge: the supervisor checks with the server). */
export const RunFinishedNotice = z
  .object({ workflowId: z.string().min(1).max(1000).describe('the workflow id of the run that ends') })
  .strict();
export type RunFinishedNoticeJson = z.input<typeof RunFinishedNotice>;

/** The input of the driftCheck workflow (what a schedule or any client sends). */
export const DriftCheckInput = z
  .object({
    modelId: ModelId,
    windowKeys: z
      .array(ObjectKey)
      .min(1)
      .optional()
      .describe('the window to check; default: the newest continuousTraining.data.checkWindows files'),
  })
  .strict();
export type DriftCheckInput = z.infer<typeof DriftCheckInput>;

/** The input of the scheduledRetrain workflow (started by a retraining schedule). */
export const ScheduledRetrainInput = z
  .object({ modelId: ModelId, reason: z.string().min(1).default('periodic retraining schedule') })
  .strict();
export type ScheduledRetrainInput = z.input<typeof ScheduledRetrainInput>;

/**
 * The supervisor refused a report or request (its validator or handler): retrying the same input cannot help.
 * Defined here, below the client and the activities, which both raise it.
 */
export class SupervisorRefusal extends Error {
  override readonly name = 'SupervisorRefusal';
}
