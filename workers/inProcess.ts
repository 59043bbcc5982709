// Both workers inside the current process (the demo and the integration tests use this; `ct dev` runs
// them as separate processes).
import type { WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { AppConfig } from '../core/appConfig';
import { activityDeps, connectClient, connectWorker } from './config';
import { createControlWorker, createGpuWorker } from './workers';

export interface RunningWorkers {
  stop(): Promise<void>;
}

export async function startInProcessWorkers(
  config: AppConfig,
  logger: Logger,
  workflowBundle?: WorkflowBundleOption,
  options: { gpu?: boolean } = {},
): Promise<RunningWorkers> {
  const { connection, namespace, dataConverter } = await connectWorker(config);
  const client = await connectClient(config);
  const deps = activityDeps(config, logger, client);
  const wiring = {
    connection,
    namespace,
    dataConverter,
    taskQueue: config.taskQueue,
    deps,
    workflowBundle,
    deployment: config.deployment,
    workflowCache: config.workflowCache,
  };
  const workers = [
    await createControlWorker(wiring),
    ...(options.gpu === false
      ? []
      : [await createGpuWorker({ ...wiring, logger, client, gpusPerJob: config.gpusPerJob })]),
  ];
  const running = workers.map((w) => w.run());
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await Promise.all(running);
        await connection.close();
        await client.connection.close();
      })();
      return stopped;
    },
  };
}
