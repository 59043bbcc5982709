// `npm run demo` (the real flights data) and `npm run example:digits` (the multiclass example): January trains the
// first champion; a drift check finds the newest window drifted against it; the model's supervisor retrains on
// that window, evaluated against the January champion.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { startRetraining } from '../client';
import { buildReport, formatReport } from './report';
import { supervisorStatus } from '../client/supervisor';
import type { DriftReport } from '../core/drift';
import { workflowIds } from '../core/keys';
import type { driftCheck, retrainingPipeline } from '../workflows';
import { formatDriftReport } from './drift';
import { supervisorBlock } from './statusView';
import { formatAck } from './triggerCommands';
import { stateDir, projectRoot } from '../stack/paths';
import { createObjectStore } from '../workers/config';
import { createLogger } from '../workers/logging';
import { installRuntimeLogger } from '../workers/runtime';
import { startInProcessWorkers } from '../workers/inProcess';
import { connectClient } from '../workers/config';
import { ingestFlights, flightsMonthKey } from './ingestFlights';
import { ingestDigits, digitsMonthKey } from './ingestDigits';
import type { ObjectStore } from '../adapters/objectStore';
import { cliConfig, ensureLocalStack } from './localStack';
import { formatRegistry, registerModelConfig, showRegistry } from './models';
import { formatRunSummary } from './runSummary';

const say = (msg: string) => process.stdout.write(`${msg}\n`);

async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for the supervisor');
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Example {
  about: string;
  /** Puts the example's monthly windows into S3 (those not there yet). */
  ingest: (store: ObjectStore, onProgress: (msg: string) => void) => Promise<string[]>;
  dataPrefix: string;
  /** The window the first champion trains on. */
  firstWindow: string;
}

export const EXAMPLES: Record<string, Example> = {
  'flight-delay': {
    about: 'the vega-datasets flights (3M US flights, Jan–Jun 2001)',
    ingest: ingestFlights,
    dataPrefix: 'datasets/flights/',
    firstWindow: flightsMonthKey('2001-01'),
  },
  digits: {
    about: "scikit-learn's bundled 8×8 digits (1,797 images; February's from a worn sensor)",
    ingest: ingestDigits,
    dataPrefix: 'datasets/digits/',
    firstWindow: digitsMonthKey('2026-01'),
  },
};

export async function runDemo(modelId = 'flight-delay'): Promise<void> {
  const example = EXAMPLES[modelId];
  if (!example) throw new Error(`no example model "${modelId}": pick one of ${Object.keys(EXAMPLES).join(', ')}`);
  const started = Date.now();
  say(`continuous-training demo: model ${modelId} on ${example.about}`);
  const stack = await ensureLocalStack();
  say(
    stack.reused
      ? '• using the running `ct dev` stack'
      : `• started Temporal (Web UI ${stack.uiUrl}) and MinIO; state in ${path.relative(projectRoot, stateDir)}`,
  );
  const { config } = cliConfig();
  const logDir = path.join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, 'demo-workers.log');
  const logger = createLogger(config.logLevel, pino.destination({ dest: logFile, sync: false }));
  installRuntimeLogger(logger);
  const workers = stack.reused ? null : await startInProcessWorkers(config, logger);
  if (workers)
    say(
      `• control worker (queue ${config.taskQueue}) and GPU worker (queue ${config.taskQueue}-gpu) running; logs in ${path.relative(projectRoot, logFile)}`,
    );
  const client = await connectClient(config);
  try {
    const store = createObjectStore(config);
    await example.ingest(store, (m) => say(`• ${m}`));
    say(`• monthly partitions in ${store.uri(example.dataPrefix)}`);
    const modelConfig = await registerModelConfig(store, path.join(projectRoot, 'models', `${modelId}.yaml`));
    say(`• registered model config ${modelConfig.modelId} (approval: ${modelConfig.approval.mode})`);

    // 1. A first champion, trained on January.
    say(`\n▶ January: the first champion (retrainingPipeline on ${example.firstWindow})`);
    const first = await startRetraining(
      client,
      {
        modelId,
        dataset: { keys: [example.firstWindow] },
        trigger: { kind: 'manual', requestedBy: 'demo', reason: 'demo: first champion on January' },
      },
      { taskQueue: config.taskQueue },
    );
    say(
      `  workflow ${first.workflowId}  (${stack.uiUrl}/namespaces/default/workflows/${encodeURIComponent(first.workflowId)})`,
    );
    say(formatRunSummary(await first.result()));

    // 2. The newest month is checked against the champion's reference profile, as a drift-check schedule would.
    say(
      `\n▶ drift check of the newest window against the champion's reference profile (the driftCheck a \`ct schedule create ${modelId} --every 1d\` runs)`,
    );
    const check = await client.workflow.execute<typeof driftCheck>('driftCheck', {
      taskQueue: config.taskQueue,
      workflowId: workflowIds.driftCheck(modelId, new Date().toISOString().replace(/[:.]/g, '-')),
      args: [{ modelId }],
    });
    if (check.reportKey) {
      const stored = (await store.getJson(check.reportKey)) as { report: DriftReport };
      say(
        `  ${check.window.join(', ')} vs champion v${check.championVersion}'s training data; report ${store.uri(check.reportKey)}`,
      );
      say(formatDriftReport(stored.report).replace(/^/gm, '  '));
    } else say(`  ${check.reason}`);
    if (check.ack) say(`  supervisor ${workflowIds.supervisor(modelId)}: ${formatAck(check.ack)}`);

    // 3. The supervisor's retrain for the incident (one run, however many reports arrive).
    if (check.ack?.action === 'started') {
      const started = await waitFor(async () => {
        const s = await supervisorStatus(client, modelId);
        const inc =
          s.incident?.id === check.ack!.incidentId
            ? s.incident
            : s.closedIncidents.find((i) => i.id === check.ack!.incidentId);
        if (inc?.run) return { runId: inc.run.workflowId, error: null };
        return inc?.error ? { runId: null, error: inc.error } : undefined;
      });
      if (started.runId) {
        say(`\n▶ retrain started by the supervisor for ${check.ack.incidentId}: ${started.runId}`);
        say(formatRunSummary(await client.workflow.getHandle<typeof retrainingPipeline>(started.runId).result()));
        // The supervisor hears of the end of its run (its child) a moment later; then its incident cools down.
        await waitFor(async () =>
          (await supervisorStatus(client, modelId)).incident?.run?.finishedAt ? true : undefined,
        );
      } else say(`  the supervisor could not start a retrain: ${started.error}`);
    }
    say(`\nsupervisor:`);
    say(
      supervisorBlock(await supervisorStatus(client, modelId))
        .join('\n')
        .replace(/^/gm, '  '),
    );

    say('\nregistry:');
    say(formatRegistry(await showRegistry(store, modelId)));
    // The factory's own numbers over the runs of the last hour (this demo, and any other run of the hour).
    say('\nfactory report (the last hour; `npx ct report --since 30d` for longer):');
    const report = await buildReport(client, store, config, { model: modelId, since: '1h' });
    say(formatReport(report).replace(/^/gm, '  '));
    say(
      `\nWeb UI: ${stack.uiUrl} — ${stack.reused ? 'open it now' : 'run `npx ct dev` to browse these runs (history is kept in .ct/state)'}`,
    );
    say(`registry as JSON: npx ct models show ${modelId} --json`);
    say(`demo finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await client.connection.close();
    await workers?.stop();
    await stack.stop();
  }
}
