// npm run bench:report — the time `ct report` takes over RUNS real retrainingPipeline histories. The runs are real
// workflows on the Temporal dev server whose activities return the results of a recorded real run (no trainer), so
// their histories are the pipeline's own. Baseline, in the same run: the same report read one run at a time.
//   RESULT runs=<n> report_s=<s> vs_sequential=<sequential s ÷ ours>
import { NativeConnection, Worker } from '@temporalio/worker';
import { startRetraining } from '../client';
import { collectRuns } from '../cli/report';
import { factoryReport } from '../core/factoryReport';
import { gpuTaskQueueOf } from '../core/taskQueues';
import { recordedActivities } from '../test/helpers/cards';
import { testModelConfig } from '../test/helpers/flights';
import { startTestStack, workflowBundle } from '../test/helpers/stack';
import { testDataConverter } from '../test/helpers/codec';
import { envCount } from './envCount';

const RUNS = envCount('BENCH_RUNS', 500);
const MODELS = 20;
const out = (s: string) => process.stdout.write(`${s}\n`);

const { control, gpu } = recordedActivities();

const stack = await startTestStack();
try {
  const tenant = stack.tenant();
  await tenant.store.ensureBucket();
  const queue = tenant.config.taskQueue;
  const bundle = { code: (await workflowBundle()).code };
  const connection = await NativeConnection.connect({ address: stack.temporal.address });
  const workers = await Promise.all([
    Worker.create({
      connection,
      dataConverter: testDataConverter(),
      taskQueue: queue,
      workflowBundle: bundle,
      activities: control,
    }),
    Worker.create({
      connection,
      dataConverter: testDataConverter(),
      taskQueue: gpuTaskQueueOf(queue),
      activities: gpu,
    }),
  ]);
  const running = workers.map((w) => w.run());
  const since = new Date();
  const t0 = Date.now();
  const handles = [];
  for (let i = 0; i < RUNS; i++) {
    const modelConfig = { ...testModelConfig(), modelId: `bench-${i % MODELS}` };
    handles.push(
      await startRetraining(
        stack.client,
        { modelId: modelConfig.modelId, dataset: { keys: ['data/jan.parquet'] }, modelConfig },
        { taskQueue: queue, workflowId: `bench/${i}` },
      ),
    );
  }
  const outcomes = await Promise.all(handles.map((h) => h.result().then((r) => r.outcome)));
  out(
    `${RUNS} runs over ${MODELS} models finished in ${((Date.now() - t0) / 1000).toFixed(1)} s (${outcomes.filter((o) => o === 'promoted').length} promoted)`,
  );
  for (const w of workers) w.shutdown();
  await Promise.all(running);
  await connection.close();

  // Visibility is eventually consistent: wait until every run is listed.
  const window = { since: new Date(since.getTime() - 60_000), until: new Date(Date.now() + 60_000) };
  for (let i = 0; i < 120; i++) {
    const n = (await stack.client.workflow.count(`WorkflowType = 'retrainingPipeline'`)).count;
    if (n >= RUNS) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const timed = async (concurrency: number) => {
    const start = performance.now();
    const runs = await collectRuns(stack.client, tenant.store, window, undefined, concurrency);
    const report = factoryReport(runs, { ...window, prices: tenant.config.prices });
    return { seconds: (performance.now() - start) / 1000, report };
  };
  const sequential = await timed(1);
  const ours = await timed(16);
  if (ours.report.fleet.throughput.runs !== RUNS || sequential.report.fleet.throughput.runs !== RUNS)
    throw new Error(`the report saw ${ours.report.fleet.throughput.runs} runs, not ${RUNS}`);
  out(
    `report over ${RUNS} runs: ${ours.seconds.toFixed(2)} s (16 at a time); one at a time: ${sequential.seconds.toFixed(2)} s`,
  );
  out(
    `RESULT runs=${RUNS} report_s=${ours.seconds.toFixed(2)} vs_sequential=${(sequential.seconds / ours.seconds).toFixed(2)}`,
  );
} finally {
  await stack.stop();
}
