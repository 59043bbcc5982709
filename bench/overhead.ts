// npm run bench:overhead — what Temporal orchestration adds to a retraining run on the local dev server. RUNS
// retrainingPipeline runs one after the other (approval auto, 3,000 flights, bench/tiny_trainer.py: one step, no
// checkpoints), real activities and workers; per run, from its history: wall time (workflow started → closed) minus
// its activities' own compute (each regular activity's started → closed, from the history; each local activity's
// execution time, from the SDK's temporal_local_activity_execution_latency) = its orchestration overhead.
// Baselines in the same run, interleaved with ours:
//  - the pipeline as it was: every short control step a regular activity (bench/workflows/remoteControlSteps.ts);
//  - the floor of this dev server: one no-op step, regular or local, and an empty workflow.
//   RESULT overhead_ms_p50=<n> overhead_ms_p99=<n>
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { startRetraining } from '../client';
import { type RunningWorkers, startInProcessWorkers } from '../workers/inProcess';
import { failureConverterPath } from '../workers/dataConverter';
import { installRuntimeLogger } from '../workers/runtime';
import { freePort } from '../stack/processes';
import { projectRoot } from '../stack/paths';
import { testDataConverter } from '../test/helpers/codec';
import { flightsParquet, readFlightsSlice } from '../test/helpers/flights';
import { scrape, total } from '../test/helpers/prometheus';
import { startTestStack, testLogger, type TestStack } from '../test/helpers/stack';
import { benchModelConfig } from './benchModel';
import { envCount } from './envCount';
import { percentile, workflowTimes, type WorkflowTimes } from './histories';
import type { noopSteps } from './workflows/floor';

const RUNS = envCount('BENCH_RUNS', 50);
const BASELINE_RUNS = envCount('BENCH_BASELINE_RUNS', 20);
const FLOOR_STEPS = 12;
const FLOOR_RUNS = 10;
const out = (s: string) => process.stdout.write(`${s}\n`);
const ms = (x: number) => x.toFixed(0).padStart(6);

const metricsPort = await freePort();
const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
// Before the stack installs the runtime without an endpoint: the local activities' time is read from the SDK's metrics.
installRuntimeLogger(testLogger, { host: '127.0.0.1', port: metricsPort });

async function bundle(interceptors: string[] = []) {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(projectRoot, 'bench', 'workflows', 'index.ts'),
    failureConverterPath,
    workflowInterceptorModules: interceptors,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  return { code };
}

/** Σ of the local activities' execution time on `taskQueue` so far, in ms (the SDK's histogram sum). */
async function localActivityMs(taskQueue: string): Promise<number> {
  return total(await scrape(metricsUrl), 'temporal_local_activity_execution_latency_sum', { task_queue: taskQueue });
}

interface PipelineSample extends WorkflowTimes {
  localMs: number;
  overheadMs: number;
}

/** One pipeline run to its end; its times from its history and the metrics. */
async function runPipeline(stack: TestStack, taskQueue: string, modelId: string, n: number): Promise<PipelineSample> {
  const modelConfig = benchModelConfig(modelId);
  const localBefore = await localActivityMs(taskQueue);
  const handle = await startRetraining(
    stack.client,
    { modelId, dataset: { keys: ['data/jan.parquet'] }, modelConfig },
    { taskQueue, workflowId: `${modelId}/${n}` },
  );
  const status = await handle.result();
  if (status.outcome !== 'promoted') throw new Error(`run ${n} of ${modelId} ended ${status.outcome}: ${status.error}`);
  const times = workflowTimes(await handle.fetchHistory());
  const localMs = (await localActivityMs(taskQueue)) - localBefore;
  return { ...times, localMs, overheadMs: times.wallMs - times.activityMs - localMs };
}

/** The floor: median wall time of FLOOR_RUNS workflows of `steps` no-op steps of `kind`. */
async function floor(stack: TestStack, taskQueue: string, steps: number, kind: 'regular' | 'local'): Promise<number> {
  const walls: number[] = [];
  for (let i = 0; i < FLOOR_RUNS; i++) {
    const handle = await stack.client.workflow.start<typeof noopSteps>('noopSteps', {
      args: [steps, kind],
      taskQueue,
      workflowId: `floor/${kind}/${steps}/${i}`,
    });
    await handle.result();
    walls.push(workflowTimes(await handle.fetchHistory()).wallMs);
  }
  return percentile(walls, 50);
}

function summary(name: string, samples: PipelineSample[]): void {
  const mean = (f: (s: PipelineSample) => number) => samples.reduce((a, s) => a + f(s), 0) / samples.length;
  const overheads = samples.map((s) => s.overheadMs);
  out(
    `${name.padEnd(44)} ${String(samples.length).padStart(4)} ${ms(percentile(overheads, 50))} ${ms(percentile(overheads, 99))} ${ms(mean((s) => s.wallMs))} ${ms(mean((s) => s.activityMs + s.localMs))} ${mean(
      (s) => s.activities,
    )
      .toFixed(0)
      .padStart(4)} ${mean((s) => s.localActivities)
      .toFixed(0)
      .padStart(4)} ${mean((s) => s.workflowTasks)
      .toFixed(0)
      .padStart(
        4,
      )} ${ms(mean((s) => s.taskQueueMs))} ${ms(mean((s) => s.taskRunMs - s.localMs))} ${ms(mean((s) => s.activityQueueMs))}`,
  );
}

out(
  `bench:overhead — ${RUNS} retrainingPipeline runs one after the other (${BASELINE_RUNS} of the baseline interleaved), tiny trainer, approval auto, local dev server`,
);
const stack = await startTestStack();
const workers: RunningWorkers[] = [];
try {
  const [ours, baseline] = [stack.tenant(), stack.tenant()];
  const data = flightsParquet(await readFlightsSlice(0, 3_000));
  for (const t of [ours, baseline]) {
    await t.store.ensureBucket();
    await t.store.put('data/jan.parquet', data);
  }
  workers.push(await startInProcessWorkers(ours.config, testLogger, await bundle()));
  const remoteSteps = path.join(projectRoot, 'bench', 'workflows', 'remoteControlSteps.ts');
  workers.push(await startInProcessWorkers(baseline.config, testLogger, await bundle([remoteSteps])));

  const floorQueue = `${ours.config.taskQueue}-floor`;
  const connection = await NativeConnection.connect({ address: stack.temporal.address });
  const floorWorker = await Worker.create({
    connection,
    taskQueue: floorQueue,
    dataConverter: testDataConverter(),
    workflowBundle: await bundle(),
    activities: { noop: async () => {} },
  });
  const floorRunning = floorWorker.run();
  const empty = await floor(stack, floorQueue, 0, 'regular');
  const regularStep = ((await floor(stack, floorQueue, FLOOR_STEPS, 'regular')) - empty) / FLOOR_STEPS;
  const localStep = ((await floor(stack, floorQueue, FLOOR_STEPS, 'local')) - empty) / FLOOR_STEPS;
  floorWorker.shutdown();
  await floorRunning;
  await connection.close();

  // One run of each first, not counted: the first workflow task of a worker pays for loading the bundle.
  await runPipeline(stack, ours.config.taskQueue, 'bench-ours', -1);
  await runPipeline(stack, baseline.config.taskQueue, 'bench-baseline', -1);
  const oursSamples: PipelineSample[] = [];
  const baselineSamples: PipelineSample[] = [];
  for (let i = 0; i < RUNS; i++) {
    oursSamples.push(await runPipeline(stack, ours.config.taskQueue, 'bench-ours', i));
    if (i < BASELINE_RUNS)
      baselineSamples.push(await runPipeline(stack, baseline.config.taskQueue, 'bench-baseline', i));
  }

  out(
    `\nfloor of this dev server (median of ${FLOOR_RUNS}): empty workflow ${empty.toFixed(1)} ms; one no-op step: regular activity ${regularStep.toFixed(1)} ms, local activity ${localStep.toFixed(1)} ms`,
  );
  out(
    `\n${'pipeline (ms; means except p50/p99)'.padEnd(44)} runs    p50    p99   wall compute acts  LAs  WFTs wftQueue wftRun actQueue`,
  );
  summary('baseline: every control step a regular activity', baselineSamples);
  summary('ours: short control steps local', oursSamples);
  const p50 = percentile(
    oursSamples.map((s) => s.overheadMs),
    50,
  );
  const baseP50 = percentile(
    baselineSamples.map((s) => s.overheadMs),
    50,
  );
  out(
    `(overhead = wall − compute; wftQueue: workflow tasks waiting for a worker; wftRun: the worker processing them, local activities excluded; actQueue: activities waiting for a worker)`,
  );
  out(`overhead p50: ${p50.toFixed(0)} ms vs ${baseP50.toFixed(0)} ms baseline → ${(baseP50 / p50).toFixed(2)}x less`);
  out(
    `RESULT overhead_ms_p50=${p50.toFixed(0)} overhead_ms_p99=${percentile(
      oursSamples.map((s) => s.overheadMs),
      99,
    ).toFixed(0)}`,
  );
} finally {
  for (const w of workers) await w.stop();
  await stack.stop();
}
process.exit(0);
