// A run's bookkeeping: the status the `status` query and the Web UI show, the search attributes, stage timings,
// a failure message that names the stage, and the audit records of the model's chain.
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  isCancellation,
  log,
  metricMeter,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AuditKind } from '../../core/audit';
import { ctMetrics } from '../../core/ctMetrics';
import type { RunInput } from '../../core/runInput';
import { describeStatus, type Outcome, type RunStatus, type Stage } from '../../core/runStatus';
import { CtModel, CtStage, CtTrigger } from '../../core/searchAttributes';
import { statusQuery, trainingProgressSignal } from '../definitions';
import { controlSteps } from './proxies';

export interface RunBook {
  status: RunStatus;
  /** Runs one stage: shown in the UI, timed, and a failure that names it. */
  stage: <T>(name: Stage, fn: () => Promise<T>) => Promise<T>;
  /** Appends a record to the model's audit chain (idempotent per run and sequence number). */
  audit: (kind: AuditKind, actor: string, details: Record<string, unknown>) => Promise<void>;
  /** Ends the run with `outcome`. */
  finish: (outcome: Outcome) => RunStatus;
  /** The approval desk says people were asked to decide (ct_approvals_requested). */
  awaitingApproval: () => void;
}

export function openRunBook(input: RunInput): RunBook {
  const { workflowId, runId } = workflowInfo();
  const status: RunStatus = {
    modelId: input.modelId,
    workflowId,
    runId,
    stage: 'starting',
    outcome: 'running',
    trigger: input.trigger,
    datasetKeys: input.dataset.keys,
    timings: [],
    validation: null,
    training: null,
    fingerprint: null,
    reused: null,
    preflight: null,
    sweep: null,
    evaluation: null,
    verdict: null,
    decision: null,
    approval: null,
    registered: null,
    tracking: null,
    error: null,
  };
  upsertSearchAttributes([
    { key: CtModel, value: input.modelId },
    { key: CtTrigger, value: input.trigger.kind },
    { key: CtStage, value: status.stage },
  ]);
  const show = () => setCurrentDetails(describeStatus(status));
  // Metrics are not commands, and the SDK emits none while replaying.
  const metrics = ctMetrics(metricMeter);
  const model = input.modelId;
  const countRun = (outcome: Outcome) => metrics.runs(1, { model, outcome });
  let approvalRequested = false;
  setHandler(statusQuery, () => status);
  setHandler(trainingProgressSignal, (progress) => {
    status.training = progress;
    const trial = progress.trial ? status.sweep?.trials.find((t) => t.name === progress.trial) : undefined;
    if (trial && trial.state === 'training') trial.step = progress.step;
    show();
  });

  let auditCount = 0;
  async function audit(kind: AuditKind, actor: string, details: Record<string, unknown>): Promise<void> {
    const eventId = `${runId}/${auditCount++}/${kind}`;
    await controlSteps().bookkeeping.recordAudit.executeWithOptions({ summary: `audit: ${kind}` }, [
      { modelId: input.modelId, kind, actor, workflowId, runId, details, eventId },
    ]);
  }

  async function stage<T>(name: Stage, fn: () => Promise<T>): Promise<T> {
    const started = new Date();
    status.stage = name;
    status.timings.push({ stage: name, startedAt: started.toISOString(), endedAt: null, seconds: null });
    upsertSearchAttributes([{ key: CtStage, value: name }]);
    show();
    try {
      return await fn();
    } catch (err) {
      throw failStage(name, err);
    } finally {
      const timing = status.timings[status.timings.length - 1]!;
      const ended = new Date();
      timing.endedAt = ended.toISOString();
      timing.seconds = (ended.getTime() - started.getTime()) / 1000;
      metrics.stageDuration(timing.seconds, { model, stage: name });
      if (name === 'approval' && approvalRequested) metrics.approvalsEnded(1, { model, outcome: approvalEnd() });
    }
  }

  /** How the wait for people ended: their decision, the deadline, or the run stopping. */
  function approvalEnd(): string {
    if (status.decision?.mode === 'timeout') return 'timeout';
    if (status.decision) return status.decision.outcome;
    return status.outcome === 'cancelled' ? 'cancelled' : 'failed';
  }

  /** What a stage's failure ends the run with: the cancellation itself, or a failure that names the stage. */
  function failStage(name: Stage, err: unknown): unknown {
    if (isCancellation(err)) {
      status.outcome = 'cancelled';
      countRun(status.outcome);
      show();
      // The cancellation itself (not the activity failure wrapping it), so the run ends as cancelled.
      return err instanceof ActivityFailure && err.cause instanceof CancelledFailure ? err.cause : err;
    }
    const cause = (err instanceof ActivityFailure && err.cause ? err.cause : err) as Error;
    status.outcome = 'failed';
    status.error = `${name}: ${cause.message}`;
    countRun(status.outcome);
    show();
    return ApplicationFailure.create({
      message: `stage ${name} failed: ${cause.message}`,
      type: cause instanceof ApplicationFailure && cause.type ? cause.type : 'StageFailed',
      nonRetryable: true,
      cause,
    });
  }

  function finish(outcome: Outcome): RunStatus {
    status.outcome = outcome;
    status.stage = 'done';
    countRun(outcome);
    upsertSearchAttributes([{ key: CtStage, value: 'done' }]);
    show();
    log.info('run finished', { outcome, version: status.registered?.version });
    return status;
  }

  function awaitingApproval(): void {
    if (approvalRequested) return;
    approvalRequested = true;
    metrics.approvalsRequested(1, { model });
  }

  return { status, stage, audit, finish, awaitingApproval };
}
