// Messages of our workflows, defined once for the workflows and for clients.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { TRAINING_PROGRESS_SIGNAL, type TrainingProgress } from '../core/progress';
import type { SupervisorStatus } from '../core/continuousTraining';
import type { DriftAlertJson, RetrainRequestJson, SupervisorAck } from '../core/supervisorMessages';
import type { ApprovalInput, ApprovalResult, RunStatus } from '../core/runStatus';

export const statusQuery = defineQuery<RunStatus>('status');
export const approveUpdate = defineUpdate<ApprovalResult, [ApprovalInput]>('approve');
export const rejectUpdate = defineUpdate<ApprovalResult, [ApprovalInput]>('reject');
export const trainingProgressSignal = defineSignal<[TrainingProgress]>(TRAINING_PROGRESS_SIGNAL);

// Messages of the continuousTraining supervisor (workflow id ct/<modelId>).
export const reportDriftUpdate = defineUpdate<SupervisorAck, [DriftAlertJson]>('reportDrift');
export const requestRetrainUpdate = defineUpdate<SupervisorAck, [RetrainRequestJson]>('requestRetrain');
export const pauseSignal = defineSignal<[{ by: string; reason?: string }]>('pause');
export const resumeSignal = defineSignal<[{ by: string; reason?: string }]>('resume');
export const supervisorStatusQuery = defineQuery<SupervisorStatus>('status');
