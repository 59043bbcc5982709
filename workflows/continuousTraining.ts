// The supervisor of one model (workflow id ct/<modelId>): turns drift reports and retrain requests into exactly
// one retraining run per incident, holds the model's state, and lives forever by continuing as new.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  metricMeter,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import { durationMs } from '../core/approvals';
import { ctMetrics } from '../core/ctMetrics';
import {
  describeSupervisor,
  expireCooldown,
  initialState,
  pendingStart,
  phaseOf,
  receiveDrift,
  receiveRetrainRequest,
  recordRunFinished,
  recordRunStarted,
  recordStartFailed,
  runInFlight,
  type SupervisorRules,
  type SupervisorState,
  unknownFeatures,
} from '../core/continuousTraining';
import {
  DriftAlert,
  PauseRequest,
  type PauseRequestJson,
  RetrainRequest,
  type SupervisorAck,
  SupervisorInput,
  type SupervisorInputJson,
} from '../core/supervisorMessages';
import { workflowIds } from '../core/keys';
import type { ModelConfig } from '../core/modelConfig';
import { notificationSettingsOf } from '../core/notifications';
import { reasonOf } from '../core/parse';
import { RunInput, type RunInputJson } from '../core/runInput';
import { runDetails } from '../core/runMetadata';
import { CtModel, CtStage, CtTrigger } from '../core/searchAttributes';
import { parseWorkflowInput, refuse } from './inputs';
import { openNotifier } from './notifier';
import { controlHeartbeatTimeout, controlRetry } from './retryPolicies';
import {
  pauseSignal,
  pauseUpdate,
  reportDriftUpdate,
  requestRetrainUpdate,
  resumeSignal,
  resumeUpdate,
  supervisorStatusQuery,
} from './definitions';
import { retrainingPipeline } from './retrainingPipeline';
import { openRunWatch } from './runWatch';
import { onVersionedWorkers } from './versioning';

const control = proxyActivities<ControlActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: controlHeartbeatTimeout,
  retry: controlRetry,
});
/** Who asked for a manual retrain, verified on the worker (the provider's keys never enter history). */
const identity = proxyLocalActivities<ControlActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumAttempts: 5 },
});

export async function continuousTraining(rawInput: SupervisorInputJson): Promise<void> {
  const input = parseWorkflowInput(SupervisorInput, rawInput, 'continuousTraining input');
  const { modelId } = input;
  const state: SupervisorState = input.carried ?? initialState(modelId);
  const { workflowId } = workflowInfo();
  if (workflowId !== workflowIds.supervisor(modelId)) {
    throw ApplicationFailure.nonRetryable(
      `the supervisor of "${modelId}" must run as workflow id ${workflowIds.supervisor(modelId)}, not ${workflowId}`,
      'InvalidInput',
    );
  }
  let config: ModelConfig | undefined;
  let configError: string | undefined;
  const notifier = openNotifier();
  const rules = (): SupervisorRules => ({
    persistence: config?.drift.persistence ?? 1,
    manualWhilePaused: config?.continuousTraining.manualWhilePaused ?? false,
  });

  // Search attributes are history events: upserted only when they change, not on every report of a storm.
  let shown = '';
  const show = () => {
    const phase = phaseOf(state, Date.now());
    const inc = state.incident;
    ctMetrics(metricMeter).openIncidents(inc ? 1 : 0, { model: modelId }); // not a command: no patch needed
    if (`${phase}/${inc?.kind}` !== shown) {
      shown = `${phase}/${inc?.kind}`;
      upsertSearchAttributes([{ key: CtStage, value: phase }, ...(inc ? [{ key: CtTrigger, value: inc.kind }] : [])]);
    }
    setCurrentDetails(
      [
        `**${modelId}**: ${phase}${state.paused ? ' (paused)' : ''} · champion ${state.championVersion === null ? 'none' : `v${state.championVersion}`}`,
        inc
          ? `open ${inc.id} (${inc.kind}): ${inc.reason} · evidence ${inc.evidenceCount}${inc.run ? ` · run ${inc.run.workflowId} ${inc.run.outcome}` : ''}${inc.cooldownUntil ? ` · cooldown until ${inc.cooldownUntil}` : ''}`
          : 'no open incident',
        `reports received ${state.reportsReceived} · drift in ${state.consecutiveDrift} consecutive window(s)`,
      ].join('\n\n'),
    );
  };

  // Handlers decide synchronously once the config is known: updates are serialised by the workflow, so of any
  // number of concurrent reports exactly one opens the incident.
  const ready = async () => {
    await condition(() => config !== undefined || configError !== undefined);
    if (configError) throw ApplicationFailure.nonRetryable(configError, 'UnknownModel');
    return config!;
  };
  setHandler(supervisorStatusQuery, () => describeSupervisor(state, Date.now()));
  setHandler(
    reportDriftUpdate,
    async (raw): Promise<SupervisorAck> => {
      const alert = DriftAlert.parse(raw);
      const cfg = await ready();
      const unknown = unknownFeatures(
        alert,
        cfg.features.map((f) => f.name),
      );
      if (unknown) throw ApplicationFailure.nonRetryable(`drift alert ${alert.alertId}: ${unknown}`, 'InvalidInput');
      const ack = receiveDrift(state, alert, Date.now(), rules());
      log.info('drift report', { alertId: alert.alertId, action: ack.action, incident: ack.incidentId });
      show();
      return ack;
    },
    {
      validator: (raw) => {
        const alert = parseWorkflowInput(DriftAlert, raw, 'drift alert');
        if (alert.modelId !== modelId)
          refuse(`drift alert is for model "${alert.modelId}", this supervisor is ${modelId}'s`, 'InvalidInput');
        const unknown = config
          ? unknownFeatures(
              alert,
              config.features.map((f) => f.name),
            )
          : null;
        if (unknown) refuse(`drift alert ${alert.alertId}: ${unknown}`, 'InvalidInput');
      },
    },
  );
  setHandler(
    requestRetrainUpdate,
    async (raw): Promise<SupervisorAck> => {
      const { idToken, ...declared } = RetrainRequest.parse(raw);
      let request: RetrainRequest = declared;
      // A person's request names its verified requester (who then may not approve the run); the token stops here.
      if (declared.kind === 'manual' && patched('verified-requests')) {
        const check = await identity.verifyActor({ claimedBy: declared.requestedBy, idToken });
        if (!check.ok)
          throw ApplicationFailure.nonRetryable(`retrain request refused: ${check.reason}`, 'InvalidIdentity');
        request = { ...declared, requestedBy: check.actor.subject };
      }
      await ready();
      const ack = receiveRetrainRequest(state, request, Date.now(), rules());
      log.info('retrain request', {
        by: request.requestedBy,
        kind: request.kind,
        action: ack.action,
        incident: ack.incidentId,
      });
      show();
      return ack;
    },
    { validator: (raw) => void parseWorkflowInput(RetrainRequest, raw, 'retrain request') },
  );
  const setPaused = (paused: boolean, by: string, reason: string) => {
    state.paused = paused;
    log.info(paused ? 'paused' : 'resumed', { by, reason });
    show();
  };
  /** Who pauses or resumes, verified on the worker; a refusal fails the Update with the reason. */
  const pauseHandler = (paused: boolean) => async (raw: PauseRequestJson) => {
    const { by, reason, idToken } = PauseRequest.parse(raw);
    const check = await identity.verifyActor({ claimedBy: by, idToken });
    if (!check.ok) throw ApplicationFailure.nonRetryable(check.reason, 'InvalidIdentity');
    setPaused(paused, check.actor.subject, reason);
    return { paused, by: check.actor.subject };
  };
  const validPause = (raw: PauseRequestJson) => void parseWorkflowInput(PauseRequest, raw, 'pause request');
  setHandler(pauseUpdate, pauseHandler(true), { validator: validPause });
  setHandler(resumeUpdate, pauseHandler(false), { validator: validPause });
  // The Signals carry a declared name only: where identities are verified they change nothing.
  const signalled =
    (paused: boolean) =>
    async ({ by, reason }: { by: string; reason?: string }) => {
      if (patched('verified-pause')) {
        const check = await identity.verifyActor({ claimedBy: by });
        if (!check.ok) {
          log.warn(
            `${paused ? 'pause' : 'resume'} signal ignored: ${check.reason} (use the ${paused ? 'pause' : 'resume'}Supervisor Update)`,
            { by },
          );
          return;
        }
      }
      setPaused(paused, by, reason ?? '');
    };
  setHandler(pauseSignal, signalled(true));
  setHandler(resumeSignal, signalled(false));
  const runs = openRunWatch({
    checkSeconds: input.runCheckSeconds,
    legacyPollSeconds: input.runPollSeconds,
    onFinished(runId, result) {
      if (!recordRunFinished(state, runId, result, Date.now(), durationMs(config!.continuousTraining.cooldown))) return;
      log.info('retrain finished', { workflowId: runId, outcome: result.outcome, version: result.version });
      show();
    },
  });

  upsertSearchAttributes([{ key: CtModel, value: modelId }]);
  try {
    config = await control.loadModelConfig(modelId);
  } catch (err) {
    configError = reasonOf(err);
    await condition(allHandlersFinished);
    throw ApplicationFailure.nonRetryable(configError, 'UnknownModel');
  }
  state.championVersion = await control.currentChampionVersion(modelId); // it may have moved outside the supervisor
  show();

  // A run started by an earlier generation (before continue-as-new) is watched again by this one.
  const inFlight = runInFlight(state);
  if (inFlight) runs.watch(inFlight.workflowId);

  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= input.historyLimit;
  for (;;) {
    const cooldownEnds = expireCooldown(state, Date.now());
    show();
    const wake = () =>
      pendingStart(state) !== null ||
      historyFull() ||
      (state.incident?.cooldownUntil != null && runs.watching() === null && cooldownEnds === null);
    // condition() without a timeout resolves to void: only the timed form says whether it woke or timed out.
    if (cooldownEnds === null) await condition(wake);
    else if (!(await condition(wake, Math.max(1, cooldownEnds - Date.now())))) continue; // the cooldown ended
    const pending = pendingStart(state);
    if (pending) {
      await startRun(pending.id);
      continue;
    }
    if (historyFull()) {
      // Handlers first: an update accepted but not yet answered must not be lost. The run in flight is a child
      // with ParentClosePolicy ABANDON, so it keeps going and the next generation watches it.
      await condition(allHandlersFinished);
      await notifier.settle();
      if (pendingStart(state)) continue;
      state.generation++;
      log.info('continuing as new', { historyLength: workflowInfo().historyLength, generation: state.generation });
      await continueAsNew<typeof continuousTraining>({
        modelId,
        historyLimit: input.historyLimit,
        runCheckSeconds: input.runCheckSeconds,
        runPollSeconds: input.runPollSeconds,
        carried: state,
      });
    }
  }

  async function startRun(incidentId: string): Promise<void> {
    const inc = state.incident!;
    try {
      config = await control.loadModelConfig(modelId); // the newest registered config applies to the new run
      notifier.configure(notificationSettingsOf(config));
      if (notifier.wants('incident-opened') && patched('notify-incidents'))
        notifier.send('incident-opened', {
          modelId,
          message: `${inc.id} opened for ${modelId} (${inc.kind}): ${inc.reason}`,
          facts: {
            incident: inc.id,
            trigger: inc.kind,
            requestedBy: inc.requestedBy,
            evidence: String(inc.evidenceCount),
          },
        });
      const data = config.continuousTraining.data;
      if (!inc.datasetKeys && !data)
        throw new Error(
          `model "${modelId}" has no continuousTraining.data.prefix: a retrain needs explicit datasetKeys`,
        );
      const datasetKeys =
        inc.datasetKeys ?? (await control.resolveDataWindow({ prefix: data!.prefix, count: data!.trainWindows }));
      const runId = workflowIds.run(modelId, `${new Date().toISOString().replace(/[:.]/g, '-')}-${incidentId}`);
      const runInput: RunInputJson = {
        modelId,
        dataset: { keys: datasetKeys },
        trigger: {
          kind: inc.kind,
          requestedBy: inc.requestedBy,
          reason: inc.reason,
          incident: { id: inc.id, supervisor: workflowId, openedAt: inc.openedAt, evidence: inc.evidence },
        },
      };
      const child = await startChild(retrainingPipeline, {
        workflowId: runId,
        args: [runInput],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `${inc.kind} retrain of ${modelId} for ${inc.id}: ${inc.reason}`,
        staticDetails: runDetails(RunInput.parse(runInput), runId),
      });
      recordRunStarted(state, runId, Date.now());
      log.info('retrain started', { incident: inc.id, workflowId: runId, datasetKeys });
      runs.watch(runId, child);
    } catch (err) {
      log.warn('retrain could not start', { incident: inc.id, error: reasonOf(err) });
      recordStartFailed(state, reasonOf(err), Date.now(), durationMs(config!.continuousTraining.cooldown));
    }
    show();
  }
}
// The supervisor lives forever: at its next task it moves to the build made current (README, "Releases").
setWorkflowOptions(onVersionedWorkers('AUTO_UPGRADE'), continuousTraining);
