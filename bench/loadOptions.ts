// The flags of bench/load.ts, parsed with commander and checked with zod (a bad one exits 2 naming it).
import { Command } from 'commander';
import { z } from 'zod';
import { parseOrThrow } from '../core/parse';

const count = (min: number) => z.coerce.number().int().min(min);

export const LoadOptions = z
  .object({
    models: count(2).describe('models in the fleet'),
    minutes: z.coerce.number().positive().describe('how long the drift-check schedules run'),
    every: count(10).describe('drift-check interval of each model, seconds'),
    storm: count(1).describe('models that get a drifted report at once, halfway through'),
    slots: count(1).describe('GPU worker slots: trainings (so runs) at once'),
    cache: count(2).optional().describe('the control worker cache (CT_MAX_CACHED_WORKFLOWS); unset: its default'),
  })
  .refine((o) => o.storm <= o.models, { path: ['storm'], message: 'cannot exceed --models' });
export type LoadOptions = z.infer<typeof LoadOptions>;

export function parseLoadOptions(argv: string[]): LoadOptions {
  const program = new Command('bench:load')
    .option('--models <n>', 'models in the fleet', '1000')
    .option('--minutes <m>', 'how long the drift-check schedules run', '10')
    .option('--every <seconds>', 'drift-check interval of each model', '120')
    .option('--storm <k>', 'models that get a drifted report at once, halfway through', '100')
    .option('--slots <n>', 'GPU worker slots (concurrent trainings)', '50')
    .option('--cache <n>', 'control worker workflow cache (CT_MAX_CACHED_WORKFLOWS)')
    .exitOverride()
    .parse(argv, { from: 'user' });
  return parseOrThrow(LoadOptions, program.opts(), 'bench:load flags');
}
