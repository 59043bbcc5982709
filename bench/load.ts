// npm run bench:load — N models on one control worker and one GPU worker (each its own process) against the local
// dev server and MinIO: registered models with a champion, their supervisors started all at once, a drift-check
// Schedule per model every --every seconds (jittered) for --minutes, halfway through a storm of drifted reports to
// --storm models at once (→ that many incidents and runs, --slots trainings at a time). Measured: the control
// worker's RSS and CPU over time (/proc), workflow task schedule-to-start latency (the SDK's histogram on the worker's
// Prometheus endpoint), the longest supervisor history, S3 requests per drift check and per run (a counting proxy
// in front of MinIO), runs finished per minute, pushback retries; then the integrity checks. Baselines in the same
// run: the idle worker's RSS and the task latencies of the seed run on the idle worker.
//   RESULT models=<n> rss_mib=<peak> task_latency_p99_ms=<n> runs_per_min=<n>
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createS3Client, ObjectStore } from '../adapters/objectStore';
import { InvalidInputError } from '../core/parse';
import { freePort, type ManagedProcess } from '../stack/processes';
import { startWorkerProcess } from '../test/helpers/processes';
import { startTestStack } from '../test/helpers/stack';
import { percentile, workflowTimes } from './histories';
import {
  histogramCount,
  histogramDelta,
  histogramPercentile,
  histogramSnapshot,
  type HistogramSnapshot,
} from './latencyHistogram';
import {
  createDriftSchedules,
  deleteDriftSchedules,
  modelIds,
  PushbackCounter,
  registerModels,
  reportToAll,
  seedChampions,
} from './loadFleet';
import { parseLoadOptions } from './loadOptions';
import { fleetRuns, integrityProblems, peakOverlap, sampledTaskLatencies, supervisorHistories } from './loadOutcome';
import { sampleProcess } from './processSampler';
import { startCountingProxy } from './s3CountingProxy';

const TASK_LATENCY = 'temporal_workflow_task_schedule_to_start_latency';
const out = (s: string) => process.stdout.write(`${s}\n`);
const secondsSince = (t: number) => ((Date.now() - t) / 1000).toFixed(1);
const iso = (ms: number) => new Date(ms).toISOString();
const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '∞');

function optionsOrExit() {
  try {
    return parseLoadOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof InvalidInputError ? err.message : (err as Error).message}\n`);
    process.exit(2);
  }
}
const opts = optionsOrExit();
const models = modelIds(opts.models);
// Evenly spread over the fleet, so the storm hits models at every position of the schedules' jitter.
const storm = Array.from({ length: opts.storm }, (_, i) => models[Math.floor((i * opts.models) / opts.storm)]!);
out(
  `bench:load — ${opts.models} models, drift checks every ${opts.every} s (jittered) for ${opts.minutes} min, storm of ${opts.storm} at half time, ${opts.slots} GPU slots, workflow cache ${opts.cache ?? 'default'}`,
);

const stack = await startTestStack();
const proxy = await startCountingProxy(stack.minio.endpoint);
const { config } = stack.tenant({ endpoint: proxy.url });
// The bench's own requests go straight to MinIO: only the workers' are counted.
const store = new ObjectStore(
  createS3Client({ ...config.s3, endpoint: stack.minio.endpoint }),
  config.s3.bucket,
  stack.minio.endpoint,
);
const logDir = mkdtempSync(path.join(os.tmpdir(), 'ct-bench-load-'));
const taskQueue = config.taskQueue;
const pushback = new PushbackCounter();
const workers: ManagedProcess[] = [];
let exitCode = 0;
try {
  await store.ensureBucket();
  const metricsPort = await freePort();
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const control = await startWorkerProcess('control', config, logDir, 'control', {
    CT_METRICS_PORT: String(metricsPort),
    ...(opts.cache ? { CT_MAX_CACHED_WORKFLOWS: String(opts.cache) } : {}),
  });
  workers.push(control);
  // One id per slot: the GPU worker runs one training per "GPU" (the bench trainer never touches one).
  const gpuIds = Array.from({ length: opts.slots }, (_, i) => i).join(',');
  const gpu = await startWorkerProcess('gpu', config, logDir, 'gpu', { CUDA_VISIBLE_DEVICES: gpuIds });
  workers.push(gpu);
  const controlUse = sampleProcess(control.child.pid!, 5_000);
  const gpuUse = sampleProcess(gpu.child.pid!, 5_000);
  const serverUse = sampleProcess(stack.temporal.process.child.pid!, 5_000);
  out(`workers: control pid ${control.child.pid}, gpu pid ${gpu.child.pid}; logs in ${logDir}`);

  let t = Date.now();
  await registerModels(store, models);
  out(`registered ${models.length} models in ${secondsSince(t)} s`);
  t = Date.now();
  const { seedWorkflowId } = await seedChampions(stack.client, store, models, taskQueue);
  const seedLatencies = workflowTimes(
    await stack.client.workflow.getHandle(seedWorkflowId).fetchHistory(),
  ).taskLatenciesMs;
  const idleRss = controlUse.samples.at(-1)?.rssMiB ?? NaN;
  out(`champions: one seed run, copied to ${models.length - 1} models, in ${secondsSince(t)} s`);

  const h0 = await histogramSnapshot(metricsUrl, TASK_LATENCY);
  t = Date.now();
  const startAcks = await reportToAll(
    stack.client,
    models,
    { prefix: 'start', datasetDrift: false },
    taskQueue,
    pushback,
  );
  const burstS = secondsSince(t);
  out(
    `supervisors: ${startAcks.length} started at once (first report each) in ${burstS} s; pushback retries ${pushback.summary(/^drift alert start-/)}`,
  );

  const h1 = await histogramSnapshot(metricsUrl, TASK_LATENCY);
  const tLoad = Date.now();
  const requestsBefore = proxy.requests.length;
  await createDriftSchedules(stack.client, models, opts.every, taskQueue, pushback);
  out(`schedules: ${models.length} created in ${secondsSince(tLoad)} s`);
  const progress = setInterval(() => {
    const s = controlUse.samples.at(-1);
    out(
      `  t=${secondsSince(tLoad)} s control rss ${fmt(s?.rssMiB ?? NaN)} MiB cpu ${fmt(s?.cpuCores ?? NaN, 2)} cores; S3 requests ${proxy.requests.length - requestsBefore}`,
    );
  }, 60_000);

  const loadMs = opts.minutes * 60_000;
  // A schedule's first check comes up to an interval after its creation: the storm waits for half of the time left
  // once checks run, so the requests before it measure checks alone.
  const count = async (q: string) => (await stack.client.workflow.count(q)).count;
  while (Date.now() < tLoad + loadMs && (await count(`WorkflowType = 'driftCheck'`)) === 0) await sleep(1_000);
  const tChecks = Date.now();
  out(`checks: the first started ${secondsSince(tLoad)} s after the schedules began to be made`);
  await sleep(Math.max(0, tChecks + (tLoad + loadMs - tChecks) / 2 - Date.now()));
  const tStorm = Date.now();
  const stormAcks = await reportToAll(
    stack.client,
    storm,
    { prefix: 'storm', datasetDrift: true },
    taskQueue,
    pushback,
  );
  const stormAckS = secondsSince(tStorm);
  const opened = stormAcks.filter((a) => a.action === 'started').length;
  out(`storm: ${storm.length} drifted reports at once, acknowledged in ${stormAckS} s; ${opened} incidents opened`);

  await sleep(Math.max(0, tLoad + loadMs - Date.now()));
  await deleteDriftSchedules(stack.client, models);
  const tChecksEnd = Date.now();
  out(`schedules deleted after ${secondsSince(tLoad)} s; waiting for the runs and the checks in flight`);
  const deadline = Date.now() + 30 * 60_000;
  while (
    Date.now() < deadline &&
    ((await count(`WorkflowType IN ('retrainingPipeline', 'driftCheck') AND ExecutionStatus = 'Running'`)) > 0 ||
      (await count(`WorkflowType = 'retrainingPipeline'`)) < opened + 1)
  )
    await sleep(2_000);
  clearInterval(progress);
  const h2 = await histogramSnapshot(metricsUrl, TASK_LATENCY);
  const tEnd = Date.now();
  for (const sampler of [controlUse, gpuUse, serverUse]) sampler.stop();

  // Drift checks closed in a window, and S3 requests per check before the storm (checks only) and per run after.
  const closedIn = (from: number, to: number) =>
    count(
      `WorkflowType = 'driftCheck' AND ExecutionStatus = 'Completed' AND CloseTime >= '${iso(from)}' AND CloseTime < '${iso(to)}'`,
    );
  const checks = await closedIn(tLoad, tEnd);
  const checksBeforeStorm = await closedIn(tChecks, tStorm);
  const perCheck = proxy.between(tChecks, tStorm).length / Math.max(1, checksBeforeStorm);
  const runs = await fleetRuns(stack.client, seedWorkflowId);
  const lastClose = Math.max(tStorm, ...runs.map((r) => r.closeMs ?? tEnd));
  const checksDuringRuns = await closedIn(tStorm, lastClose);
  const runRequests = proxy.between(tStorm, lastClose).length - checksDuringRuns * perCheck;
  const perRun = runRequests / Math.max(1, runs.length);
  const byArea = new Map<string, number>();
  for (const r of proxy.between(tChecks, tStorm))
    byArea.set(`${r.op} ${r.area}`, (byArea.get(`${r.op} ${r.area}`) ?? 0) + 1);
  const runsPerMin = runs.filter((r) => r.closeMs !== null).length / Math.max(1 / 60, (lastClose - tStorm) / 60_000);
  const histories = await supervisorHistories(stack.client, models);
  const sample = await sampledTaskLatencies(stack.client, tLoad, 300, [
    ...new Set([...storm, ...models.slice(0, 100)]),
  ]);
  const byWorkflow = {
    'drift checks': sample.checks,
    supervisors: sample.supervisors,
    runs: runs.map((r) => r.taskLatenciesMs),
  };
  const exact = Object.values(byWorkflow).flat(2);
  const problems = await integrityProblems(stack.client, store, models, storm, runs);

  const rss = controlUse.samples.map((s) => s.rssMiB);
  const cpu = controlUse.samples.map((s) => s.cpuCores);
  const peakRss = Math.max(...rss);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const latency = (h: HistogramSnapshot) =>
    `p50 ≤ ${fmt(histogramPercentile(h, 50))} ms, p99 ≤ ${fmt(histogramPercentile(h, 99))} ms of ${histogramCount(h)} tasks`;
  const p99 = percentile(exact, 99);

  out('\ncontrol worker over time (s, RSS MiB, CPU cores):');
  const every = Math.max(1, Math.ceil(controlUse.samples.length / 24));
  out(
    controlUse.samples
      .filter((_, i) => i % every === 0)
      .map((s) => `${fmt(s.t)} ${fmt(s.rssMiB)} ${fmt(s.cpuCores, 2)}`)
      .join(' | '),
  );
  out('');
  const row = (k: string, v: string) => out(`${k.padEnd(44)} ${v}`);
  row('models', `${opts.models} (storm ${opts.storm}, slots ${opts.slots}, cache ${opts.cache ?? 'default'})`);
  row(
    'control RSS MiB',
    `peak ${fmt(peakRss)}, end ${fmt(rss.at(-1) ?? NaN)}; idle ${fmt(idleRss)} → ${fmt(peakRss / idleRss, 2)}x`,
  );
  row('control CPU cores', `mean ${fmt(mean(cpu), 2)}, peak ${fmt(Math.max(...cpu), 2)}`);
  row('gpu worker RSS MiB', `peak ${fmt(Math.max(...gpuUse.samples.map((s) => s.rssMiB)))}`);
  row('Temporal dev server CPU cores', `mean ${fmt(mean(serverUse.samples.map((s) => s.cpuCores)), 2)}`);
  row(
    'WFT schedule-to-start, load (RESULT)',
    `p50 ${fmt(percentile(exact, 50))} ms, p99 ${fmt(p99)} ms of ${exact.length} tasks, from histories:`,
  );
  for (const [what, histories] of Object.entries(byWorkflow)) {
    const xs = histories.flat();
    row(
      `  ${what} (${histories.length})`,
      `p50 ${fmt(percentile(xs, 50))} ms, p99 ${fmt(percentile(xs, 99))} ms, max ${fmt(Math.max(...xs))} ms of ${xs.length} tasks`,
    );
  }
  row(
    '  baseline: the seed run on the idle worker',
    `p50 ${fmt(percentile(seedLatencies, 50))} ms, p99 ${fmt(percentile(seedLatencies, 99))} ms → p99 ${fmt(p99 / percentile(seedLatencies, 99), 1)}x`,
  );
  row('  SDK histogram, every task: load', latency(histogramDelta(h1, h2)));
  row('  SDK histogram, every task: start burst', latency(histogramDelta(h0, h1)));
  row(
    'supervisor history length',
    `longest ${Math.max(...histories.lengths)}, p50 ${percentile(histories.lengths, 50)}; generations continued as new ${histories.continuedAsNew}`,
  );
  row('drift checks completed', `${checks} (${fmt((opts.models * opts.minutes * 60) / opts.every)} expected)`);
  row('S3 requests per drift check', `${fmt(perCheck, 1)} (${checksBeforeStorm} checks before the storm)`);
  row(
    '  by op and area',
    [...byArea]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${fmt(n / Math.max(1, checksBeforeStorm), 1)}`)
      .join(', '),
  );
  row(
    'S3 requests per run',
    checksBeforeStorm < 20
      ? `n/a: ${checksBeforeStorm} checks before the storm are too few to take the checks' share out`
      : perRun > 0
        ? `${fmt(perRun, 1)} (storm window less its ${checksDuringRuns} checks × per check)`
        : `n/a: the storm window's ${checksDuringRuns} checks × per check exceed its requests: checks then cost fewer than before it`,
  );
  row(
    'runs',
    `${runs.length} finished ${runs.filter((r) => r.closeMs !== null).length}, in ${fmt((lastClose - tStorm) / 1000)} s`,
  );
  row('runs per minute', fmt(runsPerMin, 1));
  row(
    'peak concurrency',
    `runs ${peakOverlap(runs.map((r) => [r.startMs, r.closeMs ?? tEnd]))}, trainings ${peakOverlap(runs.flatMap((r) => r.trainings))} (slots ${opts.slots})`,
  );
  row('storm acknowledged', `${stormAckS} s for ${storm.length} reports`);
  row('supervisor start burst', `${burstS} s for ${models.length}`);
  row(
    'pushback retries',
    `start ${pushback.summary(/^drift alert start-/)}, storm ${pushback.summary(/^drift alert storm-/)}, schedules ${pushback.summary(/^schedule of /)}`,
  );
  row('checks phase / drain', `${fmt((tChecksEnd - tLoad) / 1000)} s / ${fmt((tEnd - tChecksEnd) / 1000)} s`);
  row(
    'integrity',
    problems.length
      ? `FAILED: ${problems.join('; ')}`
      : 'ok: one run per incident, registry versions = promoted runs, nothing failed',
  );
  const goals = [
    peakRss < 1024 ? null : `RSS ${fmt(peakRss)} MiB ≥ 1024`,
    p99 < 1000 ? null : `p99 schedule-to-start ${fmt(p99)} ms ≥ 1000`,
  ].filter(Boolean);
  row('goals (RSS < 1 GiB, p99 < 1 s)', goals.length ? `missed: ${goals.join('; ')}` : 'met');
  if (problems.length) exitCode = 1;
  out(
    `RESULT models=${opts.models} rss_mib=${fmt(peakRss)} task_latency_p99_ms=${fmt(p99)} runs_per_min=${fmt(runsPerMin, 1)}`,
  );
} catch (err) {
  // Said before cleanup: calls still in flight may fail loudly once the stack is gone.
  process.stderr.write(`bench:load failed: ${(err as Error).stack ?? String(err)}\n`);
  exitCode = 1;
} finally {
  for (const w of workers) await w.stop(30_000);
  await stack.stop();
  await proxy.close();
}
process.exit(exitCode);
