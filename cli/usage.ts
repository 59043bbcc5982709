// Usage errors: the command line itself is wrong (exit code 2); and which errors are bad input in general.
import { ObjectStoreUnavailableError } from '../adapters/objectStore';
import { InvalidInputError } from '../core/parse';
import { TemporalUnreachableError } from '../workers/config';
import { CodecKeysMissingError } from '../workers/dataConverter';

export class UsageError extends Error {}

/**
 * The exit code of an error no command handled: 2 for bad input (the command line, a file or config, an unknown id,
 * a Temporal or object store that does not answer at the configured endpoint), else 1.
 */
export function exitCodeOf(err: unknown): 1 | 2 {
  const badInput = [
    UsageError,
    InvalidInputError,
    TemporalUnreachableError,
    ObjectStoreUnavailableError,
    CodecKeysMissingError,
  ];
  return badInput.some((c) => err instanceof c) ? 2 : 1;
}
