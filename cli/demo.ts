// `npm run demo`: the real flights data, two retraining runs (January, then June against the January champion).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { startRetraining } from '../client';
import type { RunStatus } from '../core/runStatus';
import { stateDir, projectRoot } from '../stack/paths';
import { createObjectStore } from '../workers/config';
import { createLogger, installRuntimeLogger } from '../workers/logging';
import { startInProcessWorkers } from '../workers/inProcess';
import { connectClient } from '../workers/config';
import { ingestFlights, flightsMonthKey } from './ingestFlights';
import { cliConfig, ensureLocalStack } from './localStack';
import { formatRegistry, registerModelConfig, showRegistry } from './models';
import { formatRunSummary } from './runSummary';

const say = (msg: string) => process.stdout.write(`${msg}\n`);

export async function runDemo(): Promise<void> {
  const started = Date.now();
  say('continuous-training demo: model flight-delay on the vega-datasets flights (3M US flights, Jan–Jun 2001)');
  const stack = await ensureLocalStack();
  say(stack.reused ? '• using the running `ct dev` stack' : `• started Temporal (Web UI ${stack.uiUrl}) and MinIO; state in ${path.relative(projectRoot, stateDir)}`);
  const { config } = cliConfig();
  const logDir = path.join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, 'demo-workers.log');
  const logger = createLogger(config.logLevel, pino.destination({ dest: logFile, sync: false }));
  installRuntimeLogger(logger);
  const workers = stack.reused ? null : await startInProcessWorkers(config, logger);
  if (workers) say(`• control worker (queue ${config.taskQueue}) and GPU worker (queue ${config.taskQueue}-gpu) running; logs in ${path.relative(projectRoot, logFile)}`);
  const client = await connectClient(config);
  try {
    const store = createObjectStore(config);
    await ingestFlights(store, (m) => say(`• ${m}`));
    say(`• monthly partitions in ${store.uri('datasets/flights/')}`);
    const modelConfig = await registerModelConfig(store, path.join(projectRoot, 'models', 'flight-delay.yaml'));
    say(`• registered model config ${modelConfig.modelId} (approval: ${modelConfig.approval.mode})`);

    const runs: RunStatus[] = [];
    for (const month of ['2001-01', '2001-06']) {
      say(`\n▶ retrainingPipeline on ${month}`);
      const handle = await startRetraining(
        client,
        { modelId: 'flight-delay', dataset: { keys: [flightsMonthKey(month)] }, trigger: { kind: 'manual', requestedBy: 'demo', reason: `demo run on ${month}` } },
        { taskQueue: config.taskQueue },
      );
      say(`  workflow ${handle.workflowId}  (${stack.uiUrl}/namespaces/default/workflows/${encodeURIComponent(handle.workflowId)})`);
      const result = await handle.result();
      runs.push(result);
      say(formatRunSummary(result));
    }

    say('\nregistry:');
    say(formatRegistry(await showRegistry(store, 'flight-delay')));
    say(`\nWeb UI: ${stack.uiUrl} — ${stack.reused ? 'open it now' : 'run `npx ct dev` to browse these runs (history is kept in .ct/state)'}`);
    say(`registry as JSON: npx ct models show flight-delay --json`);
    say(`demo finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await client.connection.close();
    await workers?.stop();
    await stack.stop();
  }
}
