// Both workers inside the current process (the demo and the integration tests use this; `ct dev` runs
// them as separate processes).
import path from 'node:path';
import type { WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { AppConfig } from '../core/appConfig';
import { tools } from '../stack/paths';
import { connectClient, connectWorker, createAuditLog, createObjectStore, gitCommit } from './config';
import { createControlWorker, createGpuWorker } from './workers';

export interface RunningWorkers {
  stop(): Promise<void>;
}

export async function startInProcessWorkers(config: AppConfig, logger: Logger, workflowBundle?: WorkflowBundleOption, options: { gpu?: boolean } = {}): Promise<RunningWorkers> {
  const { connection, namespace } = await connectWorker(config);
  const client = await connectClient(config);
  const deps = {
    store: createObjectStore(config),
    logger,
    workDir: path.resolve(config.workDir),
    pythonBinDir: path.dirname(config.python ?? tools.python),
    gitCommit: gitCommit(),
    audit: createAuditLog(config),
    approvalSecret: config.approvalSecret,
  };
  const wiring = { connection, namespace, taskQueue: config.taskQueue, deps, workflowBundle };
  const workers = [await createControlWorker(wiring), ...(options.gpu === false ? [] : [await createGpuWorker({ ...wiring, logger, client, gpusPerJob: config.gpusPerJob })])];
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
