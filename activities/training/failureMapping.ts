// The failure a non-succeeded attempt ends with: retried (and resumed) unless retrying cannot help.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { TrainingProgress } from '../../core/progress';
import type { AttemptEnd } from '../../core/trainingAttempt';
import { FailureType } from '../failures';
import type { TrainerRun } from '../../adapters/trainerProcess';

export function attemptFailure(
  end: AttemptEnd,
  progress: TrainingProgress,
  heartbeatTimeoutSeconds: number,
  run: TrainerRun | null,
): Error {
  const { message } = end;
  const { step } = progress;
  const resumingFrom = progress.checkpointKey ?? 'the start';
  switch (end.outcome) {
    case 'cancelled':
      return new CancelledFailure(`training cancelled at step ${step}`);
    case 'config-error':
      return ApplicationFailure.nonRetryable(
        `trainer rejected its configuration: ${message}`,
        FailureType.trainerConfig,
      );
    case 'data-error':
      return ApplicationFailure.nonRetryable(`trainer rejected its data: ${message}`, FailureType.trainerData);
    case 'out-of-memory':
      return ApplicationFailure.nonRetryable(`trainer ran out of memory: ${message}`, FailureType.trainerOutOfMemory);
    case 'preempted':
      return ApplicationFailure.retryable(
        `trainer preempted at step ${step}; resuming from ${resumingFrom}`,
        FailureType.trainerPreempted,
      );
    case 'stalled':
      return ApplicationFailure.retryable(
        `trainer stalled at step ${step} (silent for ${heartbeatTimeoutSeconds}s): killed, will resume`,
        FailureType.trainerStalled,
      );
    case 'backend-unavailable':
      return ApplicationFailure.retryable(
        `${message} (at step ${step}; resuming from ${resumingFrom})`,
        FailureType.trainingBackendUnavailable,
      );
    case 'backend-rejected':
      return ApplicationFailure.nonRetryable(message, FailureType.trainingBackendRejected);
    case 'store-unavailable':
      return ApplicationFailure.retryable(
        `${message} (at step ${step}; resuming from ${resumingFrom})`,
        FailureType.objectStoreUnavailable,
      );
    default:
      return ApplicationFailure.retryable(
        `trainer crashed (exit ${run?.exitCode ?? run?.signal}) at step ${step}: ${message}`,
        FailureType.trainerCrashed,
      );
  }
}
