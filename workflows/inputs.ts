// Workflow inputs are parsed like every boundary; a bad input fails the workflow at once, without retries.
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
