// Messages of the retrainingPipeline workflow, defined once for the workflow and for clients.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { TRAINING_PROGRESS_SIGNAL, type TrainingProgress } from '../core/progress';
import type { ApprovalInput, ApprovalResult, RunStatus } from '../core/runStatus';

export const statusQuery = defineQuery<RunStatus>('status');
export const approveUpdate = defineUpdate<ApprovalResult, [ApprovalInput]>('approve');
export const rejectUpdate = defineUpdate<ApprovalResult, [ApprovalInput]>('reject');
export const trainingProgressSignal = defineSignal<[TrainingProgress]>(TRAINING_PROGRESS_SIGNAL);
