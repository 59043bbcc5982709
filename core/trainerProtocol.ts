// The trainer protocol (trainers/PROTOCOL.md) as code: exit codes and the JSON-line events the trainer prints,
// parsed with zod so a misbehaving trainer is named, not silently ignored. The config file is in trainerConfig.ts.
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

export const EXIT = {
  ok: 0,
  configError: 2,
  dataError: 3,
  outOfMemory: 4,
  checkpointUnusable: 5,
  preempted: 75,
} as const;

export const ErrorClass = z.enum(['config', 'data', 'oom', 'checkpoint', 'other']);
export type ErrorClass = z.infer<typeof ErrorClass>;

export const TrainerEvent = z.discriminatedUnion('event', [
  z
    .object({
      event: z.literal('started'),
      device: z.string(),
      resumedFrom: z.string().nullable(),
      step: z.number(),
      totalSteps: z.number(),
    })
    .loose(),
  z
    .object({
      event: z.literal('progress'),
      step: z.number(),
      epoch: z.number(),
      loss: z.number(),
      samplesPerSec: z.number(),
      totalSteps: z.number().optional(),
      samplesProcessed: z.number().optional(),
      validation: z.record(z.string(), z.number().nullable()).optional(),
      rank: z.number().int().min(0).optional().describe('the data-parallel rank reporting (absent: rank 0)'),
    })
    .loose(),
  z.object({ event: z.literal('checkpoint'), step: z.number(), epoch: z.number(), path: z.string() }).loose(),
  z.object({ event: z.literal('metrics'), split: z.string(), values: z.record(z.string(), z.number()) }).loose(),
  z.object({ event: z.literal('done') }).loose(),
  z
    .object({
      event: z.literal('preempted'),
      step: z.number().optional(),
      checkpointPath: z.string().nullable().optional(),
    })
    .loose(),
  z.object({ event: z.literal('error'), class: ErrorClass, message: z.string() }).loose(),
]);
export type TrainerEvent = z.infer<typeof TrainerEvent>;

/** Parses one stdout line; non-JSON or unknown lines return null (they are logged, not fatal). */
export function parseTrainerLine(line: string): TrainerEvent | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  try {
    const parsed = TrainerEvent.safeParse(JSON.parse(trimmed));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
