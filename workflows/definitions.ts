// Messages of our workflows, defined once for the workflows and for clients.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { TRAINING_PROGRESS_SIGNAL, type TrainingProgress } from '../core/progress';
import type { SupervisorStatus } from '../core/continuousTraining';
import type {
  DriftAlertJson,
  PauseRequestJson,
  RetrainRequestJson,
  RunFinishedNoticeJson,
  SupervisorAck,
} from '../core/supervisorMessages';
import type { ApprovalInput, ApprovalResult, RunStatus } from '../core/runStatus';

export const statusQuery = defineQuery<RunStatus>('status');
export const approveUpdate = defineUpdate<ApprovalResult, [ApprovalInput]>('approve');
export const rejectUpdate = defineUpdate<ApprovalResult, [ApprovalInput]>('reject');
export const trainingProgressSignal = defineSignal<[TrainingProgress]>(TRAINING_PROGRESS_SIGNAL);

// Messages of the continuousTraining supervisor (workflow id ct/<modelId>).
export const reportDriftUpdate = defineUpdate<SupervisorAck, [DriftAlertJson]>('reportDrift');
export const requestRetrainUpdate = defineUpdate<SupervisorAck, [RetrainRequestJson]>('requestRetrain');
/** Pause and resume as Updates: the caller learns that it took effect, or why it was refused (identity). */
export const pauseUpdate = defineUpdate<{ paused: boolean; by: string }, [PauseRequestJson]>('pauseSupervisor');
export const resumeUpdate = defineUpdate<{ paused: boolean; by: string }, [PauseRequestJson]>('resumeSupervisor');
/** The first form, kept for clients that send them: declared names, ignored where identities are verified. */
export const pauseSignal = defineSignal<[{ by: string; reason?: string }]>('pause');
export const resumeSignal = defineSignal<[{ by: string; reason?: string }]>('resume');
export const supervisorStatusQuery = defineQuery<SupervisorStatus>('status');
/** A run tells its supervisor that it ends; only a nudge: the supervisor confirms with the server before acting. */
export const runFinishedSignal = defineSignal<[RunFinishedNoticeJson]>('runFinished');
