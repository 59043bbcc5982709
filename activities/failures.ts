// Turning known error kinds into Temporal failures: bad data and bad config are not retried; outages are.
import { ApplicationFailure } from '@temporalio/common';
import { SupervisorRefusal } from '../core/supervisorMessages';
import { InvalidInputError } from '../core/parse';
import { UnreadableDatasetError } from '../adapters/datasetFiles';
import { ObjectNotFoundError } from '../adapters/objectStore';

export const FailureType = {
  invalidInput: 'InvalidInput',
  datasetNotFound: 'DatasetNotFound',
  datasetUnreadable: 'DatasetUnreadable',
  validationFailed: 'DataValidationFailed',
  modelConfigNotFound: 'ModelConfigNotFound',
  unknownModel: 'UnknownModel',
  rollbackRefused: 'RollbackRefused',
  trainerConfig: 'TrainerConfigError',
  trainerData: 'TrainerDataError',
  trainerOutOfMemory: 'TrainerOutOfMemory',
  trainerPreempted: 'TrainerPreempted',
  trainerCrashed: 'TrainerCrashed',
  trainerStalled: 'TrainerStalled',
  /** a sweep trial reached its rung without the validation metric the sweep ranks by */
  sweepMetricMissing: 'SweepMetricMissing',
  objectStoreUnavailable: 'ObjectStoreUnavailable',
  /** the Ray cluster of the `ray` training backend did not answer */
  trainingBackendUnavailable: 'TrainingBackendUnavailable',
  /** the Ray cluster refused the attempt, or none is configured */
  trainingBackendRejected: 'TrainingBackendRejected',
  /** a data window file was rewritten or grew while a drift check read it */
  windowChanged: 'WindowChanged',
} as const;

/** Re-throws `err` as a non-retryable failure when retrying cannot help; anything else propagates (and is retried). */
export function classify(err: unknown): never {
  if (err instanceof ApplicationFailure) throw err;
  if (err instanceof ObjectNotFoundError)
    throw ApplicationFailure.nonRetryable(err.message, FailureType.datasetNotFound);
  if (err instanceof UnreadableDatasetError)
    throw ApplicationFailure.nonRetryable(err.message, FailureType.datasetUnreadable);
  if (err instanceof InvalidInputError || err instanceof SupervisorRefusal)
    throw ApplicationFailure.nonRetryable(err.message, FailureType.invalidInput);
  throw err;
}
