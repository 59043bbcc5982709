// The naming of every object key and workflow id: one place, so the CLI, activities and docs agree.
const pad = (version: number) => String(version).padStart(6, '0');

export const keys = {
  validationReport: (modelId: string, runId: string) => `runs/${modelId}/${runId}/validation-report.json`,
  split: (modelId: string, runId: string, split: string) => `runs/${modelId}/${runId}/splits/${split}.parquet`,
  checkpoints: (modelId: string, runId: string) => `runs/${modelId}/${runId}/checkpoints/`,
  /** A sweep trial's attempts sit beside the run's, named by trial and rung: each rung is an activity of its own. */
  attempt: (modelId: string, runId: string, attempt: number, trial?: { name: string; rung: number }) =>
    `runs/${modelId}/${runId}/attempts/${trial ? `${trial.name}-r${trial.rung}-` : ''}${String(attempt).padStart(3, '0')}.json`,
  /** A sweep trial's own folder (its checkpoints and model) inside its run's. */
  trialRun: (runId: string, trial: string) => `${runId}/trials/${trial}`,
  attempts: (modelId: string, runId: string) => `runs/${modelId}/${runId}/attempts/`,
  trainedModel: (modelId: string, runId: string) => `runs/${modelId}/${runId}/model/model.pt`,
  /** The step series of the run's training (loss, samples/s, validation metrics): what tracking logs as history. */
  trainingMetrics: (modelId: string, runId: string) => `runs/${modelId}/${runId}/training-metrics.json`,
  /** The step series stored beside a trained model (keys.trainedModel: a run's, a reused run's or a sweep trial's). */
  trainingMetricsOfModel: (modelKey: string) => modelKey.replace(/model\/model\.pt$/, 'training-metrics.json'),
  /** The finished training of a run fingerprint (experiment memory): what a run with the same one reuses. */
  experiment: (modelId: string, fingerprint: string) => `experiments/${modelId}/${fingerprint}.json`,
  evaluationReport: (modelId: string, runId: string) => `runs/${modelId}/${runId}/evaluation.json`,
  registeredConfig: (modelId: string) => `registry/${modelId}/config.json`,
  versionsPrefix: (modelId: string) => `registry/${modelId}/versions/`,
  versionCard: (modelId: string, version: number) => `registry/${modelId}/versions/${pad(version)}/card.json`,
  versionCardMarkdown: (modelId: string, version: number) => `registry/${modelId}/versions/${pad(version)}/card.md`,
  versionArtifact: (modelId: string, version: number) => `registry/${modelId}/versions/${pad(version)}/model.pt`,
  runRegistration: (modelId: string, runId: string) => `registry/${modelId}/runs/${runId}.json`,
  alias: (modelId: string, alias: string) => `registry/${modelId}/aliases/${alias}.json`,
  referenceProfile: (modelId: string, version: number) =>
    `registry/${modelId}/versions/${pad(version)}/reference-profile.json`,
  driftReport: (modelId: string, stamp: string) => `drift/${modelId}/reports/${stamp}.json`,
  /** One part's window profile of a fanned-out drift check, merged into its report (then deleted). */
  driftPartial: (modelId: string, stamp: string, part: number) =>
    `drift/${modelId}/partials/${stamp}/${String(part).padStart(5, '0')}.json`,
  /** A governance token's nonce, written once when an act consumes it: a token works once. */
  spentToken: (modelId: string, nonce: string) => `registry/${modelId}/spent-tokens/${nonce}.json`,
  /** Written once a notification was delivered: an event id is posted once, whatever retries or replays. */
  notificationDelivered: (eventId: string) => `notifications/${eventId}.json`,
};

/** Parses the version number out of a version card key, or null if the key is not one. */
export function versionFromCardKey(key: string): number | null {
  const m = /\/versions\/(\d{6})\/card\.json$/.exec(key);
  return m ? Number(m[1]) : null;
}

export const workflowIds = {
  run: (modelId: string, stamp: string) => `retrain/${modelId}/${stamp}`,
  supervisor: (modelId: string) => `ct/${modelId}`,
  driftCheck: (modelId: string, stamp: string) => `drift-check/${modelId}/${stamp}`,
  driftSchedule: (modelId: string) => `ct/${modelId}/drift-check`,
  retrainSchedule: (modelId: string) => `ct/${modelId}/retrain`,
  rollback: (modelId: string, stamp: string) => `rollback/${modelId}/${stamp}`,
};
