// The dev server's floor for bench/overhead.ts: a workflow that runs `n` no-op activities one after the other,
// regular or local. Bundled with the real workflows (bench/workflows/index.ts), on the benchmark's workers only.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

/** The activity the floor runs: it returns at once. */
export interface FloorActivities {
  noop(): Promise<void>;
}

const regular = proxyActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });

export async function noopSteps(n: number, kind: 'regular' | 'local'): Promise<void> {
  const steps = kind === 'local' ? local : regular;
  for (let i = 0; i < n; i++) await steps.noop();
}
