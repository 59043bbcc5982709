// The supervisor's rules, pure: what a drift report or a retrain request does to a model's state.
// The continuousTraining workflow calls these from its handlers; each call decides synchronously, so a storm
// of concurrent reports is serialised by the workflow and opens exactly one incident.
import { z } from 'zod';
import type { DriftAlert, RetrainRequest, SupervisorAck } from './supervisorMessages';
import { TriggerKind } from './runInput';
import type { RunStatus } from './runStatus';

export const Evidence = z.object({
  id: z.string(),
  kind: TriggerKind,
  source: z.string(),
  at: z.string(),
  datasetDrift: z.boolean().optional(),
  driftedShare: z.number().optional(),
  driftedFeatures: z.array(z.string()).optional(),
  reportKey: z.string().optional(),
  requestedBy: z.string().optional(),
  reason: z.string().optional(),
});
export type Evidence = z.infer<typeof Evidence>;

export interface RunRecord {
  workflowId: string;
  incidentId: string;
  trigger: TriggerKind;
  startedAt: string;
  finishedAt: string | null;
  outcome: string;
  version: number | null;
  error: string | null;
}

/** How a run ended, as the supervisor records it: its outcome (or how it closed without one: terminated, timed-out). */
export interface RunResult {
  outcome: string;
  version: number | null;
  promoted: boolean;
  error: string | null;
}

/** The result of a run that returned its status (completed, whatever its outcome). */
export function runResultOf(status: RunStatus): RunResult {
  return {
    outcome: status.outcome,
    version: status.registered?.version ?? null,
    promoted: status.registered?.promoted ?? false,
    error: status.error,
  };
}

export interface Incident {
  id: string;
  kind: TriggerKind;
  openedAt: string;
  requestedBy: string;
  reason: string;
  datasetKeys: string[] | null;
  /** Every report and request that belongs to it, the opener first (capped at MAX_EVIDENCE; evidenceCount goes on). */
  evidence: Evidence[];
  evidenceCount: number;
  run: RunRecord | null;
  cooldownUntil: string | null;
  error: string | null;
}

export interface SupervisorState {
  modelId: string;
  paused: boolean;
  championVersion: number | null;
  recent: Evidence[];
  consecutiveDrift: number;
  incident: Incident | null;
  closedIncidents: Incident[];
  nextIncident: number;
  seenIds: string[];
  reportsReceived: number;
  generation: number;
}

export interface SupervisorRules {
  persistence: number;
  manualWhilePaused: boolean;
}

// Everything below is carried across continue-as-new, so every list is capped (the input must stay far below the
// server's 2 MB payload limit whatever the traffic; test/unit/continuousTraining.test.ts measures the worst case).
const MAX_EVIDENCE = 200;
const MAX_RECENT = 20;
const MAX_SEEN = 2000;
const MAX_CLOSED = 10;
/** A closed incident keeps its first pieces of evidence only (the opener first); evidenceCount keeps the total. */
const MAX_CLOSED_EVIDENCE = 20;
/** A piece of evidence names this many drifted features (its drift report names them all) ... */
const MAX_EVIDENCE_FEATURES = 10;
/** ... and keeps this much of a request's reason (the incident it opens keeps the whole). */
const MAX_EVIDENCE_REASON = 200;
/** A run's or a failed start's error message keeps this much (the run's own history has the whole failure). */
const MAX_ERROR = 2000;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
/** The first drifted features, and how many more there are. */
const featureList = (features: string[]) =>
  features.slice(0, MAX_EVIDENCE_FEATURES).join(', ') +
  (features.length > MAX_EVIDENCE_FEATURES ? ` and ${features.length - MAX_EVIDENCE_FEATURES} more` : '');

export function initialState(modelId: string): SupervisorState {
  return {
    modelId,
    paused: false,
    championVersion: null,
    recent: [],
    consecutiveDrift: 0,
    incident: null,
    closedIncidents: [],
    nextIncident: 1,
    seenIds: [],
    reportsReceived: 0,
    generation: 0,
  };
}

/** An incident is open while its run is pending or in flight, and through the cooldown after it. */
export function openIncident(state: SupervisorState, now: number): Incident | null {
  const inc = state.incident;
  if (!inc) return null;
  if (inc.error === null && (!inc.run || inc.run.finishedAt === null)) return inc;
  return inc.cooldownUntil !== null && Date.parse(inc.cooldownUntil) > now ? inc : null;
}

/** The incident waiting for its run to be started (by the workflow's main loop). */
export function pendingStart(state: SupervisorState): Incident | null {
  const inc = state.incident;
  return inc && !inc.run && !inc.error ? inc : null;
}

export function runInFlight(state: SupervisorState): RunRecord | null {
  const run = state.incident?.run;
  return run && run.finishedAt === null ? run : null;
}

function seen(state: SupervisorState, id: string): boolean {
  if (state.seenIds.includes(id)) return true;
  state.seenIds.push(id);
  if (state.seenIds.length > MAX_SEEN) state.seenIds.splice(0, state.seenIds.length - MAX_SEEN);
  return false;
}

function attach(inc: Incident, e: Evidence): void {
  inc.evidenceCount++;
  if (inc.evidence.length < MAX_EVIDENCE) inc.evidence.push(e);
}

function open(
  state: SupervisorState,
  kind: TriggerKind,
  at: string,
  requestedBy: string,
  reason: string,
  first: Evidence,
  datasetKeys: string[] | null,
): Incident {
  closeIncident(state);
  const id = `incident-${String(state.nextIncident++).padStart(4, '0')}`;
  state.incident = {
    id,
    kind,
    openedAt: at,
    requestedBy,
    reason,
    datasetKeys,
    evidence: [first],
    evidenceCount: 1,
    run: null,
    cooldownUntil: null,
    error: null,
  };
  return state.incident;
}

/** Moves the current incident (if any) to the closed list. */
export function closeIncident(state: SupervisorState): void {
  if (!state.incident) return;
  state.incident.evidence.splice(MAX_CLOSED_EVIDENCE);
  state.closedIncidents.push(state.incident);
  if (state.closedIncidents.length > MAX_CLOSED) state.closedIncidents.shift();
  state.incident = null;
}

/** Names in driftedFeatures that are not features of the model, or null when all are. */
export function unknownFeatures(alert: Pick<DriftAlert, 'driftedFeatures'>, features: string[]): string | null {
  const unknown = alert.driftedFeatures.filter((f) => !features.includes(f));
  return unknown.length
    ? `unknown feature(s) ${unknown.map((f) => `"${f}"`).join(', ')}; the model's features are ${features.join(', ')}`
    : null;
}

export function receiveDrift(
  state: SupervisorState,
  alert: DriftAlert,
  now: number,
  rules: SupervisorRules,
): SupervisorAck {
  if (seen(state, alert.alertId))
    return { action: 'duplicate', incidentId: null, message: `alert ${alert.alertId} was already received` };
  state.reportsReceived++;
  // A drift check names the champion it compared with: the freshest word on it (it can move outside the supervisor).
  if (alert.championVersion != null) state.championVersion = alert.championVersion;
  const at = new Date(now).toISOString();
  const evidence: Evidence = {
    id: alert.alertId,
    kind: 'drift',
    source: alert.source,
    at,
    datasetDrift: alert.datasetDrift,
    ...(alert.driftedShare !== undefined ? { driftedShare: alert.driftedShare } : {}),
    driftedFeatures: alert.driftedFeatures.slice(0, MAX_EVIDENCE_FEATURES),
    ...(alert.reportKey ? { reportKey: alert.reportKey } : {}),
  };
  state.recent.push(evidence);
  if (state.recent.length > MAX_RECENT) state.recent.shift();
  state.consecutiveDrift = alert.datasetDrift ? state.consecutiveDrift + 1 : 0;

  const current = openIncident(state, now);
  if (current && alert.datasetDrift) {
    attach(current, evidence);
    return {
      action: 'attached',
      incidentId: current.id,
      message: `attached to open ${current.id} (${current.run?.finishedAt ? 'cooling down' : 'retrain in flight'})`,
    };
  }
  if (!alert.datasetDrift)
    return { action: 'recorded', incidentId: current?.id ?? null, message: 'no dataset drift: recorded' };
  if (state.paused)
    return { action: 'paused', incidentId: null, message: 'supervisor is paused: drift recorded, no retrain started' };
  if (state.consecutiveDrift < rules.persistence) {
    return {
      action: 'recorded',
      incidentId: null,
      message: `drift in ${state.consecutiveDrift} of ${rules.persistence} consecutive windows needed`,
    };
  }
  const reason = `dataset drift${alert.driftedFeatures.length ? ` in ${featureList(alert.driftedFeatures)}` : ''} (${alert.source} ${alert.alertId})`;
  const inc = open(state, 'drift', at, alert.source, reason, evidence, null);
  return { action: 'started', incidentId: inc.id, message: `opened ${inc.id}: a retrain starts` };
}

export function receiveRetrainRequest(
  state: SupervisorState,
  req: RetrainRequest,
  now: number,
  rules: SupervisorRules,
): SupervisorAck {
  if (req.requestId !== undefined && seen(state, req.requestId))
    return { action: 'duplicate', incidentId: null, message: `request ${req.requestId} was already received` };
  const at = new Date(now).toISOString();
  const evidence: Evidence = {
    id: req.requestId ?? `${req.kind}-${now}`,
    kind: req.kind,
    source: req.kind,
    at,
    requestedBy: req.requestedBy,
    reason: clip(req.reason, MAX_EVIDENCE_REASON),
  };
  const current = state.incident;
  if (current && (pendingStart(state) === current || runInFlight(state))) {
    attach(current, evidence);
    return {
      action: 'attached',
      incidentId: current.id,
      message: `a retrain is already in flight for ${current.id}: request attached to it`,
    };
  }
  if (state.paused && !(req.kind === 'manual' && rules.manualWhilePaused)) {
    return {
      action: 'paused',
      incidentId: null,
      message: `supervisor is paused: ${req.kind} retrain not started${req.kind === 'manual' ? ' (continuousTraining.manualWhilePaused is false)' : ''}`,
    };
  }
  // An explicit request is not held back by a cooldown: it ends the cooling incident and opens its own.
  const inc = open(state, req.kind, at, req.requestedBy, req.reason, evidence, req.datasetKeys ?? null);
  return { action: 'started', incidentId: inc.id, message: `opened ${inc.id}: a retrain starts` };
}

export function recordRunStarted(state: SupervisorState, workflowId: string, now: number): RunRecord {
  const inc = state.incident!;
  inc.run = {
    workflowId,
    incidentId: inc.id,
    trigger: inc.kind,
    startedAt: new Date(now).toISOString(),
    finishedAt: null,
    outcome: 'running',
    version: null,
    error: null,
  };
  return inc.run;
}

/**
 * The run `workflowId` ended: the incident cools down; a promoted version becomes the champion; drift counting starts
 * afresh. Returns false (and changes nothing) when that run is not the one in flight.
 */
export function recordRunFinished(
  state: SupervisorState,
  workflowId: string,
  result: RunResult,
  now: number,
  cooldownMs: number,
): boolean {
  const run = runInFlight(state);
  if (run?.workflowId !== workflowId) return false;
  Object.assign(run, {
    finishedAt: new Date(now).toISOString(),
    outcome: result.outcome,
    version: result.version,
    error: result.error === null ? null : clip(result.error, MAX_ERROR),
  });
  if (result.promoted && result.version !== null) state.championVersion = result.version;
  state.incident!.cooldownUntil = new Date(now + cooldownMs).toISOString();
  state.consecutiveDrift = 0;
  return true;
}

/** A run could not be started (no data, no config): the incident records why and cools down like a finished run,
 * so the reports that keep coming do not each try again; an explicit request does. */
export function recordStartFailed(state: SupervisorState, error: string, now: number, cooldownMs: number): void {
  if (!state.incident) return;
  state.incident.error = clip(error, MAX_ERROR);
  state.incident.cooldownUntil = new Date(now + cooldownMs).toISOString();
}

/** Closes an incident whose cooldown is over; returns when the next cooldown ends (ms), if any. */
export function expireCooldown(state: SupervisorState, now: number): number | null {
  const until = state.incident?.cooldownUntil;
  if (!until || runInFlight(state)) return null;
  if (Date.parse(until) <= now) {
    closeIncident(state);
    return null;
  }
  return Date.parse(until);
}

export type SupervisorPhase = 'watching' | 'retraining' | 'cooling-down' | 'paused';
export function phaseOf(state: SupervisorState, now: number): SupervisorPhase {
  if (pendingStart(state) || runInFlight(state)) return 'retraining';
  if (openIncident(state, now)) return 'cooling-down';
  return state.paused ? 'paused' : 'watching';
}

export interface SupervisorStatus extends SupervisorState {
  phase: SupervisorPhase;
  lastRuns: RunRecord[];
}

export function describeSupervisor(state: SupervisorState, now: number): SupervisorStatus {
  const lastRuns = [...state.closedIncidents, ...(state.incident ? [state.incident] : [])]
    .flatMap((i) => (i.run ? [i.run] : []))
    .reverse();
  return { ...state, phase: phaseOf(state, now), lastRuns };
}
