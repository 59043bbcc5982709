// A worker process: configuration, logging, connections, the worker itself, and graceful shutdown
// (the SDK drains on SIGINT/SIGTERM: running activities are cancelled and given the grace time).
import type { Logger } from 'pino';
import { activityDeps, connectClient, connectWorker, loadAppConfig } from './config';
import { encryptionOf } from './dataConverter';
import { createLogger, metricsUrl } from './logging';
import { installRuntimeLogger } from './runtime';
import { createControlWorker, createGpuWorker } from './workers';

export async function runWorkerProcess(kind: 'control' | 'gpu'): Promise<void> {
  const config = loadAppConfig();
  const logger = createLogger(config.logLevel).child({ worker: kind });
  installRuntimeLogger(logger, config.metrics);
  const { connection, namespace, dataConverter } = await connectWorker(config);
  // Both need a client: the GPU worker signals training progress, the control worker watches runs and sends Updates.
  const client = await connectClient(config);
  const deps = activityDeps(config, logger, client);
  const wiring = {
    connection,
    namespace,
    dataConverter,
    taskQueue: config.taskQueue,
    deps,
    deployment: config.deployment,
    workflowCache: config.workflowCache,
  };
  const worker =
    kind === 'control'
      ? await createControlWorker(wiring)
      : await createGpuWorker({
          ...wiring,
          logger,
          client,
          gpusPerJob: config.gpusPerJob,
          shutdownSignal: shutdownOnSignal(logger),
        });
  logger.info(
    {
      namespace,
      taskQueue: worker.options.taskQueue,
      build: config.deployment.buildId ?? null,
      metrics: metricsUrl(config.metrics),
      payloadEncryption: encryptionOf(dataConverter),
    },
    `${kind} worker started`,
  );
  await worker.run();
  await connection.close();
  await client.connection.close();
  logger.info(`${kind} worker stopped`);
}

/** SIGTERM/SIGINT abort this signal (the SDK drains the worker on the same signals). */
function shutdownOnSignal(logger: Logger): AbortSignal {
  const controller = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      logger.warn({ signal: sig }, 'shutting down: asking running trainers to checkpoint');
      controller.abort(sig);
    });
  }
  return controller.signal;
}

export function exitOnError(err: unknown): never {
  process.stderr.write(`${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
}
