// npm run bench:sweep — what successive halving saves on a sweep. The same 9-trial grid over the digits CNN
// (scikit-learn's digits, January window: real data), run through the whole pipeline twice in one run: with
// halving (eta 3, first rung at two epochs) and, as the baseline, every trial to the end. Compute is the trainer
// processes' CPU-seconds from the attempt records (GPU-seconds on a GPU worker): everything the trials burnt,
// Python and PyTorch start-up of every rung included. The best metric is the winner's validation accuracy.
// The halving bracket is the canonical one for 9 trials and eta 3: the first rung at 1/27 of a full trial, the second
// at 1/9, the last trial to the end. A trial's Python and PyTorch start (about 2.6 CPU-s here) is paid at every rung,
// so the ratio depends on how long a full trial is: BENCH_SWEEP_EPOCHS (default 200, 2,800 steps) sets it.
//   RESULT trials=<n> compute_ratio=<halving ÷ full> best_metric_delta=<full − halving>
import { startRetraining } from '../client';
import { AttemptRecord } from '../core/attempts';
import { keys } from '../core/keys';
import { ModelConfig } from '../core/modelConfig';
import type { RunStatus } from '../core/runStatus';
import { digitsMonthKey, ingestDigits } from '../cli/ingestDigits';
import { loadModelConfigFile } from '../cli/models';
import { formatRunSummary } from '../cli/runSummary';
import { projectRoot } from '../stack/paths';
import { startTestStack, type TestStack } from '../test/helpers/stack';
import { envCount } from './envCount';

const out = (s: string) => process.stdout.write(`${s}\n`);
type Tenant = ReturnType<TestStack['tenant']>;

const EPOCHS = envCount('BENCH_SWEEP_EPOCHS', 200);
/** January's ~900 training images in batches of 64: 14 steps an epoch. */
const MIN_STEPS = Math.max(1, Math.round((EPOCHS * 14) / 27));
const SPACE = {
  learningRate: { values: [0.0003, 0.001, 0.003] },
  channels: { values: [[8], [16], [16, 32]] },
};

function sweepConfig(modelId: string, halving: boolean): ModelConfig {
  const digits = loadModelConfigFile(`${projectRoot}/models/digits.yaml`);
  return ModelConfig.parse({
    ...digits,
    modelId,
    reuse: 'never',
    hyperparameters: { ...digits.hyperparameters, epochs: EPOCHS },
    sweep: {
      metric: { name: 'accuracy', goal: 'maximize' },
      space: SPACE,
      // One trial at a time: on 2 cores, two trainers would only share them.
      concurrency: 1,
      ...(halving ? { halving: { eta: 3, minSteps: MIN_STEPS } } : {}),
    },
  });
}

interface Measured {
  status: RunStatus;
  computeSeconds: number;
  wallSeconds: number;
  steps: number;
  best: number;
}

async function measure(stack: TestStack, tenant: Tenant, modelId: string, halving: boolean): Promise<Measured> {
  const started = performance.now();
  const handle = await startRetraining(
    stack.client,
    { modelId, dataset: { keys: [digitsMonthKey('2026-01')] }, modelConfig: sweepConfig(modelId, halving) },
    { taskQueue: tenant.config.taskQueue },
  );
  const status = await handle.result();
  const wallSeconds = (performance.now() - started) / 1000;
  if (status.outcome !== 'promoted' || !status.sweep?.winner)
    throw new Error(`sweep ended ${status.outcome}: ${status.error}`);
  const attempts = await Promise.all(
    (await tenant.store.list(keys.attempts(modelId, status.runId))).map(async (k) =>
      AttemptRecord.parse(await tenant.store.getJson(k)),
    ),
  );
  const winner = status.sweep.trials.find((t) => t.name === status.sweep!.winner)!;
  return {
    status,
    computeSeconds: attempts.reduce((s, a) => s + a.deviceSeconds, 0),
    wallSeconds,
    steps: attempts.reduce((s, a) => s + a.lastStep - a.resumedFromStep, 0),
    best: winner.metric!,
  };
}

async function main() {
  out(
    `bench:sweep — 9-trial grid (learningRate × channels) of the digits CNN, ${EPOCHS} epochs a full trial, January digits`,
  );
  out('(no GPU here: trials train on the GPU worker on CPU, one at a time; compute is trainer CPU-seconds)');
  const stack = await startTestStack();
  try {
    const tenant = stack.tenant();
    await tenant.store.ensureBucket();
    await ingestDigits(tenant.store);
    await stack.startWorkers(tenant.config);
    const full = await measure(stack, tenant, 'sweep-full', false);
    const halving = await measure(stack, tenant, 'sweep-halving', true);
    for (const [name, m] of [
      ['every trial to the end (baseline)', full],
      ['successive halving (eta 3)', halving],
    ] as const) {
      out(`\n${name}:`);
      out(
        formatRunSummary(m.status)
          .split('\n')
          .filter((l) => / sweep:|^ {4}/.test(l))
          .join('\n'),
      );
      out(
        `  compute ${m.computeSeconds.toFixed(1)} CPU-s for ${m.steps} steps, wall ${m.wallSeconds.toFixed(1)} s; winner ${m.status.sweep!.winner} at accuracy ${m.best.toFixed(4)}`,
      );
    }
    const ratio = halving.computeSeconds / full.computeSeconds;
    const delta = full.best - halving.best;
    out(`\ncompute: halving ${ratio.toFixed(3)}x the full sweep; steps ${(halving.steps / full.steps).toFixed(3)}x`);
    out(
      `best validation accuracy: full ${full.best.toFixed(4)}, halving ${halving.best.toFixed(4)} (Δ ${delta.toFixed(4)})`,
    );
    out(`RESULT trials=9 compute_ratio=${ratio.toFixed(3)} best_metric_delta=${delta.toFixed(4)}`);
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:sweep failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
