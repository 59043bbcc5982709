// A count a benchmark takes from the environment (BENCH_RUNS …): a positive integer, or exit 2 naming the variable.
import { z } from 'zod';

export function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  const parsed = z.coerce
    .number()
    .int()
    .min(1)
    .safeParse(raw === undefined || raw === '' ? fallback : raw);
  if (parsed.success) return parsed.data;
  process.stderr.write(`${name}=${raw}: must be a whole number ≥ 1\n`);
  process.exit(2);
}
