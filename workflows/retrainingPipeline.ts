// One retraining run as a durable DAG, read top to bottom as the recipe it is:
// validate → prepare → train (GPU queue) → evaluate and gate → register the challenger → decide → promote.
// Bookkeeping lives in pipeline/runBook.ts, people's decisions in pipeline/approvalDesk.ts, the promotion loop in
// pipeline/promotion.ts, activity options in pipeline/proxies.ts; people hear of it through notifier.ts.
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { actorRecord } from '../core/identity';
import { notificationSettingsOf } from '../core/notifications';
import { reasonOf } from '../core/parse';
import { RunInput, type RunInputJson } from '../core/runInput';
import type { Outcome, RunStatus } from '../core/runStatus';
import { reusedTraining } from '../core/experiments';
import type { TrainingResult } from '../core/reports';
import { runFinishedSignal } from './definitions';
import { parseWorkflowInput } from './inputs';
import { type ApprovalDesk, openApprovalDesk } from './pipeline/approvalDesk';
import { evaluateAndGate, promote } from './pipeline/promotion';
import { controlSteps, dataStages, registry, training } from './pipeline/proxies';
import { openRunBook, type RunBook } from './pipeline/runBook';
import { openTracker, type Tracker } from './pipeline/tracking';
import { runSweep } from './pipeline/sweep';
import { type Notifier, openNotifier } from './notifier';
import { onVersionedWorkers } from './versioning';

/** Since this patch a run is fingerprinted and may reuse an identical finished training (README "Experiment memory"). */
export const EXPERIMENT_MEMORY = 'experiment-memory';
/** Since this patch a run smoke-tests its trainer on the control worker before training (README "Preflight"). */
export const PREFLIGHT = 'preflight';

export async function retrainingPipeline(rawInput: RunInputJson): Promise<RunStatus> {
  const parsed = parseWorkflowInput(RunInput, rawInput, 'retrainingPipeline input');
  // The starter's token proves who started the run; it goes no further than that check (no record holds it).
  const { idToken, ...declared } = parsed.trigger;
  const input = { ...parsed, trigger: declared };
  const book = openRunBook(input);
  const notifier = openNotifier();
  const tracker = openTracker();
  let outcome: Outcome;
  try {
    outcome = await retrain(input, idToken, book, openApprovalDesk(book, notifier), notifier, tracker);
  } catch (err) {
    if (!isCancellation(err))
      notifier.send('run-failed', {
        modelId: input.modelId,
        message: `${input.modelId} run ${book.status.workflowId} failed: ${reasonOf(err)}`,
        facts: { stage: book.status.stage, trigger: input.trigger.kind, requestedBy: input.trigger.requestedBy },
      });
    // A cancelled run is logged too (as KILLED): its own cancellation must not stop that one call.
    await CancellationScope.nonCancellable(() => tracker.finish(book, isCancellation(err) ? 'cancelled' : 'failed'));
    await notifier.settle();
    await tellSupervisor(input.trigger, book.status.workflowId);
    throw err;
  }
  // A decision's Update handler may still be auditing when its decision ends the run: let it answer first.
  await condition(allHandlersFinished);
  await tracker.finish(book, outcome);
  await notifier.settle();
  const status = book.finish(outcome);
  await tellSupervisor(input.trigger, status.workflowId);
  return status;
}

/**
 * Tells the supervisor that started this run that it ends (however it ends by its own code), so that a supervisor
 * generation that did not start it (continue-as-new) learns it without polling. A supervisor that is gone must not
 * fail the run: the failure to tell is logged.
 */
async function tellSupervisor(trigger: RunInput['trigger'], workflowId: string): Promise<void> {
  const supervisor = trigger.incident?.supervisor;
  if (supervisor === undefined || workflowInfo().parent?.workflowId !== supervisor) return;
  if (!patched('notify-supervisor')) return;
  await CancellationScope.nonCancellable(() =>
    getExternalWorkflowHandle(supervisor).signal(runFinishedSignal, { workflowId }),
  ).catch((err: unknown) =>
    log.warn('could not tell the supervisor that the run ends', { supervisor, error: reasonOf(err) }),
  );
}
// A run may wait a week for approval: it finishes on the build it started on (Worker Versioning, README).
setWorkflowOptions(onVersionedWorkers('PINNED'), retrainingPipeline);

async function retrain(
  input: RunInput,
  idToken: string | undefined,
  book: RunBook,
  desk: ApprovalDesk,
  notifier: Notifier,
  tracker: Tracker,
): Promise<Outcome> {
  const { modelId, trigger: declared } = input;
  const { status, stage, audit } = book;
  const { runId, workflowId, datasetKeys } = status;

  // Settled before anything is audited: a run of an unknown model writes no chain, and an inline configuration
  // may not change a registered model's governance.
  const { config, trigger } = await stage('starting', async () => {
    const resolved = await controlSteps().config.resolveRunConfig.executeWithOptions(
      { summary: `configuration of ${modelId}` },
      [{ modelId, inline: input.modelConfig }],
    );
    const supervisor = declared.incident?.supervisor;
    const requester = await desk.open(resolved.approval, {
      requestedBy: declared.requestedBy,
      ...(idToken === undefined ? {} : { idToken }),
      startedBySupervisor: supervisor !== undefined && workflowInfo().parent?.workflowId === supervisor,
    });
    const started = { ...declared, requestedBy: requester.subject };
    await audit('run-started', requester.subject, { trigger: started, datasetKeys, identity: actorRecord(requester) });
    return { config: resolved, trigger: started };
  });
  notifier.configure(notificationSettingsOf(config));
  tracker.configure(config);
  const data = { modelId, runId, config, datasetKeys };

  const report = await stage('validate', () =>
    dataStages.validateDataset.executeWithOptions(
      { summary: `validate ${datasetKeys.length} file(s) against the ${modelId} schema` },
      [data],
    ),
  );
  status.validation = { rows: report.rows, reportKey: report.reportKey };

  const { prepared, memory } = await stage('prepare', async () => {
    const splits = await dataStages.prepareSplits.executeWithOptions(
      { summary: 'time-aware train/validation/holdout split' },
      [data],
    );
    // Experiment memory (README): the run's fingerprint, and a finished training with the same one, if any.
    const found = patched(EXPERIMENT_MEMORY)
      ? await controlSteps().bookkeeping.fingerprintRun.executeWithOptions(
          { summary: 'fingerprint the run; look up an identical training' },
          [{ modelId, config, prepared: splits }],
        )
      : null;
    return { prepared: splits, memory: found };
  });
  const fingerprint = memory?.fingerprint;
  status.fingerprint = fingerprint ?? null;

  let trained: TrainingResult;
  // A sweep's winner goes on with its own hyperparameters (its card and registration show them).
  let hyperparameters = config.hyperparameters;
  if (memory?.reusable) {
    const from = memory.reusable;
    trained = from.trained;
    hyperparameters = from.hyperparameters ?? hyperparameters;
    status.reused = reusedTraining(from);
    await audit('training-reused', 'system', { fingerprint, ...status.reused, modelKey: trained.modelKey });
  } else {
    // Configs resolved before preflight existed have no `preflight` section: those runs go on without one.
    if (config.preflight?.enabled && patched(PREFLIGHT))
      status.preflight = await stage('preflight', () =>
        dataStages.preflightTraining.executeWithOptions(
          { summary: `smoke run on CPU: ${config.preflight.steps} step(s), a checkpoint, a resume` },
          [{ modelId, runId, config, prepared }],
        ),
      );
    const trainInput = { modelId, runId, config, prepared, ...(fingerprint ? { fingerprint } : {}) };
    // Configs could not hold a sweep before this stage existed: no run in flight takes this branch on replay.
    const { sweep } = config;
    if (sweep) {
      const winner = await stage('sweep', () => runSweep(book, trainInput, sweep));
      ({ trained, hyperparameters } = winner);
    } else
      trained = await stage('train', () =>
        training(config).trainModel.executeWithOptions(
          { summary: `train on ${prepared.splits.train.rows} rows: ${config.trainer.command.join(' ')}` },
          [trainInput],
        ),
      );
    if (memory)
      await controlSteps().bookkeeping.recordExperiment.executeWithOptions(
        { summary: `remember the training of ${memory.fingerprint.slice(0, 12)}` },
        [
          {
            modelId,
            workflowId,
            runId,
            fingerprint: memory.fingerprint,
            codeDigest: memory.codeDigest,
            trained,
            ...(sweep ? { hyperparameters } : {}),
          },
        ],
      );
  }

  const candidate = { modelId, runId, config: { ...config, hyperparameters }, prepared, trained };
  tracker.trained(trained, candidate.config);
  const gated = await evaluateAndGate(book, candidate);
  if (!gated.verdict.passed) return 'rejected-by-gate';

  // Registered as the challenger now, so it can be inspected (and shadowed) while people decide.
  const registered = await stage('register', () =>
    registry.registerChallenger.executeWithOptions({ summary: `register ${modelId} as challenger` }, [
      { ...candidate, workflowId, datasetKeys, trigger, ...gated, fingerprint, reused: status.reused },
    ]),
  );
  status.registered = registered;

  const decision = await stage('approval', () => desk.decide(gated.verdict, gated.evaluation));
  await audit('decision', decision.by, { outcome: decision.outcome, mode: decision.mode, comment: decision.comment });
  if (decision.outcome === 'rejected') {
    await controlSteps().bookkeeping.recordRejection.executeWithOptions(
      { summary: `record rejection on v${registered.version}` },
      [{ modelId, version: registered.version, decision }],
    );
    return 'rejected';
  }
  const outcome = await promote(book, candidate, registered, decision, gated);
  if (outcome === 'promoted')
    notifier.send('model-promoted', {
      modelId,
      message: `${modelId} v${registered.version} is the champion now (approved by ${decision.by})`,
      facts: {
        version: String(registered.version),
        previousChampion:
          book.status.verdict?.championVersion == null ? 'none' : `v${book.status.verdict.championVersion}`,
        decision: `${decision.mode} by ${decision.by}`,
      },
    });
  return outcome;
}
