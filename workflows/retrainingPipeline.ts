// One retraining run as a durable DAG. It reads top to bottom like the recipe it is:
// validate → prepare → train (GPU queue) → evaluate → gate → approval → register + promote.
import {
  ActivityCancellationType,
  allHandlersFinished,
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities, GpuActivities } from '../activities';
import { autoApproval } from '../core/approvals';
import { evaluateGate, evaluateGateOnReport } from '../core/gate';
import type { ModelConfig } from '../core/modelConfig';
import type { AuditKind } from '../core/audit';
import type { Decision } from '../core/reports';
import { RunInput, type RunInputJson } from '../core/runInput';
import { describeStatus, type RunStatus, type Stage } from '../core/runStatus';
import { CtModel, CtStage, CtTrigger } from '../core/searchAttributes';
import { gpuTaskQueueOf } from '../core/taskQueues';
import { parseWorkflowInput } from './inputs';
import { controlRetry } from './retryPolicies';
import { openApprovalDesk } from './approvals';
import { statusQuery, trainingProgressSignal } from './definitions';

const control = proxyActivities<ControlActivities>({ startToCloseTimeout: '20 minutes', retry: controlRetry });

export async function retrainingPipeline(rawInput: RunInputJson): Promise<RunStatus> {
  const result = await runPipeline(rawInput);
  // A decision's Update handler may still be auditing when its decision ends the run: let it answer first.
  if (patched('finish-handlers')) await condition(allHandlersFinished);
  return result;
}

async function runPipeline(rawInput: RunInputJson): Promise<RunStatus> {
  const input = parseWorkflowInput(RunInput, rawInput, 'retrainingPipeline input');
  const { workflowId, runId } = workflowInfo();
  const { modelId } = input;
  const datasetKeys = input.dataset.keys;
  const status: RunStatus = {
    modelId,
    workflowId,
    runId,
    stage: 'starting',
    outcome: 'running',
    trigger: input.trigger,
    datasetKeys,
    timings: [],
    validation: null,
    training: null,
    evaluation: null,
    verdict: null,
    decision: null,
    registered: null,
    error: null,
  };
  upsertSearchAttributes([
    { key: CtModel, value: modelId },
    { key: CtTrigger, value: input.trigger.kind },
    { key: CtStage, value: status.stage },
  ]);
  setHandler(statusQuery, () => status);
  setHandler(trainingProgressSignal, (progress) => {
    status.training = progress;
    setCurrentDetails(describeStatus(status));
  });
  // Every decision of consequence goes to the model's audit chain (runs started before it existed skip this).
  const auditing = patched('audit-log');
  let auditCount = 0;
  const audit = async (kind: AuditKind, actor: string, details: Record<string, unknown>) => {
    if (!auditing) return;
    await control.recordAudit.executeWithOptions(
      { startToCloseTimeout: '2 minutes', retry: controlRetry, summary: `audit: ${kind}` },
      [{ modelId, kind, actor, workflowId, runId, details, eventId: `${runId}/${auditCount++}/${kind}` }],
    );
  };

  // People decide through Updates approve/reject (workflows/approvals.ts); they are refused until a policy is set.
  const desk = openApprovalDesk({ status, requester: input.trigger.requestedBy, modelId, workflowId, runId, audit });

  /** Runs one stage: bookkeeping for the UI and the timings, and a failure message that names the stage. */
  async function stage<T>(name: Stage, fn: () => Promise<T>): Promise<T> {
    const started = new Date();
    status.stage = name;
    status.timings.push({ stage: name, startedAt: started.toISOString(), endedAt: null, seconds: null });
    upsertSearchAttributes([{ key: CtStage, value: name }]);
    setCurrentDetails(describeStatus(status));
    try {
      return await fn();
    } catch (err) {
      if (isCancellation(err)) {
        status.outcome = 'cancelled';
        setCurrentDetails(describeStatus(status));
        // Throw the cancellation itself (not the activity failure wrapping it) so the run ends as cancelled.
        throw err instanceof ActivityFailure && err.cause instanceof CancelledFailure ? err.cause : err;
      }
      status.outcome = 'failed';
      const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
      status.error = `${name}: ${(cause as Error).message}`;
      setCurrentDetails(describeStatus(status));
      throw ApplicationFailure.create({
        message: `stage ${name} failed: ${(cause as Error).message}`,
        type: cause instanceof ApplicationFailure && cause.type ? cause.type : 'StageFailed',
        nonRetryable: true,
        cause: cause as Error,
      });
    } finally {
      const timing = status.timings[status.timings.length - 1]!;
      const ended = new Date();
      timing.endedAt = ended.toISOString();
      timing.seconds = (ended.getTime() - started.getTime()) / 1000;
    }
  }

  // The configuration is settled before anything is audited: a run of an unknown model writes no chain for it, and
  // an inline configuration may not change a registered model's governance.
  const configFirst = patched('config-before-audit');
  const config: ModelConfig = auditing
    ? await stage('starting', async () => {
        const resolved = configFirst
          ? await control.resolveRunConfig({ modelId, inline: input.modelConfig })
          : undefined;
        await audit('run-started', input.trigger.requestedBy, { trigger: input.trigger, datasetKeys });
        return resolved ?? input.modelConfig ?? (await control.loadModelConfig(modelId));
      })
    : (input.modelConfig ?? (await stage('starting', () => control.loadModelConfig(modelId))));
  desk.setPolicy(config.approval);
  const stageInput = { modelId, runId, config, datasetKeys };

  const report = await stage('validate', () =>
    control.validateDataset.executeWithOptions(
      {
        startToCloseTimeout: '20 minutes',
        retry: controlRetry,
        summary: `validate ${datasetKeys.length} file(s) against the ${modelId} schema`,
      },
      [stageInput],
    ),
  );
  status.validation = { rows: report.rows, reportKey: report.reportKey };

  const prepared = await stage('prepare', () =>
    control.prepareSplits.executeWithOptions(
      { startToCloseTimeout: '20 minutes', retry: controlRetry, summary: 'time-aware train/validation/holdout split' },
      [stageInput],
    ),
  );

  const trainOptions = {
    taskQueue: gpuTaskQueueOf(workflowInfo().taskQueue),
    startToCloseTimeout: `${config.trainer.timeoutMinutes} minutes`,
    heartbeatTimeout: `${config.trainer.heartbeatTimeoutSeconds} seconds`,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
    // On cancellation, wait until the trainer's process tree is gone before the run counts as cancelled.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
  const gpu = proxyActivities<GpuActivities>(trainOptions);
  const trained = await stage('train', () =>
    gpu.trainModel.executeWithOptions(
      { ...trainOptions, summary: `train on ${prepared.splits.train.rows} rows: ${config.trainer.command.join(' ')}` },
      [{ modelId, runId, config, prepared }],
    ),
  );

  const evaluateAndGate = async () => {
    const evaluation = await stage('evaluate', () =>
      control.evaluateModels.executeWithOptions(
        {
          startToCloseTimeout: '30 minutes',
          retry: controlRetry,
          summary: `score ${prepared.splits.holdout.rows} holdout rows, candidate vs champion`,
        },
        [{ modelId, runId, config, prepared, trained }],
      ),
    );
    status.evaluation = evaluation;
    const verdict = await stage('gate', async () =>
      // Runs started before the statistical gate keep the point-estimate gate they began with.
      patched('statistical-gate')
        ? evaluateGateOnReport(config.gate, evaluation)
        : evaluateGate(
            config.gate,
            evaluation.candidate.overall,
            evaluation.champion?.version != null
              ? { version: evaluation.champion.version, metrics: evaluation.champion.overall }
              : null,
          ),
    );
    status.verdict = verdict;
    await audit('gate-verdict', 'system', {
      passed: verdict.passed,
      championVersion: verdict.championVersion,
      reasons: verdict.reasons,
      holdoutSha256: evaluation.holdoutSha256,
    });
    return { evaluation, verdict };
  };
  let { evaluation, verdict } = await evaluateAndGate();
  if (!verdict.passed) return finish('rejected-by-gate');

  // A candidate that passed the gate is registered now as the challenger, so it can be inspected (and shadowed)
  // while people decide; approval promotes that same version.
  const registerArgs = (decision: Decision | null, promote: boolean, expectedChampion?: number | null) =>
    [
      {
        modelId,
        workflowId,
        runId,
        config,
        datasetKeys,
        trigger: input.trigger,
        prepared,
        trained,
        evaluation,
        verdict,
        decision,
        promote,
        expectedChampion,
        challenger: !promote,
      },
    ] as const;
  const withChallenger = patched('challenger-alias');
  if (withChallenger) {
    status.registered = await stage('register', () =>
      control.registerModel.executeWithOptions(
        { startToCloseTimeout: '10 minutes', retry: controlRetry, summary: `register ${modelId} as challenger` },
        [...registerArgs(null, false)],
      ),
    );
  }

  // Before the desk opens, so no decision can arrive while the key that checks its token is still on its way.
  if (config.approval.mode !== 'auto' && config.approval.signedApprovals) await desk.loadVerifyingKey();
  const decision = await stage('approval', async () => {
    if (config.approval.mode === 'auto') {
      status.decision = {
        outcome: 'approved',
        by: 'policy',
        comment: 'approval mode auto: gate passed',
        mode: 'auto',
        approvals: [],
        evidence: [],
      };
    } else {
      if (config.approval.mode === 'policy') {
        const auto = autoApproval(config.approval, verdict, evaluation);
        if (auto.approve)
          status.decision = {
            outcome: 'approved',
            by: 'policy',
            comment: 'autoApprove policy held',
            mode: 'policy',
            approvals: [],
            evidence: auto.evidence,
          };
      }
      setCurrentDetails(describeStatus(status));
      if (!status.decision && patched('approval-timers')) await desk.waitWithDeadlines(config.approval);
      await condition(() => status.decision !== null);
    }
    return status.decision!;
  });
  await audit('decision', decision.by, { outcome: decision.outcome, mode: decision.mode, comment: decision.comment });
  if (decision.outcome === 'rejected') {
    if (withChallenger && status.registered) {
      const version = status.registered.version;
      await control.closeChallenger.executeWithOptions(
        { startToCloseTimeout: '2 minutes', retry: controlRetry, summary: `record rejection on v${version}` },
        [{ modelId, version, decision }],
      );
    }
    return finish('rejected');
  }

  // A verdict holds only against the champion it was computed with: if another run promoted a new champion
  // while this one waited, evaluate and gate again before promoting.
  if (patched('regate-before-promotion')) {
    const championNow = await control.currentChampionVersion(modelId);
    if (championNow !== verdict.championVersion) {
      log.info('champion changed during approval: evaluating again', {
        was: verdict.championVersion,
        now: championNow,
      });
      ({ evaluation, verdict } = await evaluateAndGate());
      if (!verdict.passed) return finish('rejected-by-gate');
    }
  }

  const register = (expectedChampion?: number | null) =>
    stage('register', () =>
      control.registerModel.executeWithOptions(
        {
          startToCloseTimeout: '10 minutes',
          retry: { ...controlRetry, maximumAttempts: 10 },
          summary: `register ${modelId} and promote to champion`,
        },
        [...registerArgs(decision, true, expectedChampion)],
      ),
    );
  if (!patched('conditional-promotion')) {
    status.registered = await register();
    return finish('promoted');
  }
  // Promotion is a compare-and-swap from the champion the verdict was computed against: if another run won the
  // race, this candidate is gated again against the new champion before it may try again.
  for (;;) {
    status.registered = await register(verdict.championVersion);
    if (status.registered.promoted) {
      await audit('promotion', decision.by, {
        version: status.registered.version,
        previousChampion: verdict.championVersion,
      });
      return finish('promoted');
    }
    ({ evaluation, verdict } = await evaluateAndGate());
    if (!verdict.passed) return finish('rejected-by-gate');
  }

  function finish(outcome: RunStatus['outcome']): RunStatus {
    status.outcome = outcome;
    status.stage = 'done';
    upsertSearchAttributes([{ key: CtStage, value: 'done' }]);
    setCurrentDetails(describeStatus(status));
    log.info('run finished', { outcome, version: status.registered?.version });
    return status;
  }
}
