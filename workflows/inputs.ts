// Workflow inputs and Update arguments are parsed like every boundary; a bad input fails at once, without retries.
import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { parseOrThrow } from '../core/parse';

export function parseWorkflowInput<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.infer<S> {
  try {
    return parseOrThrow(schema, raw, what);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidInput');
  }
}

/**
 * Refuses an Update in its validator. A plain Error would reach clients as `retryable: true`; a refusal is final:
 * sending the same arguments again cannot succeed.
 */
export function refuse(reason: string, type = 'Refused'): never {
  throw ApplicationFailure.nonRetryable(reason, type);
}
