// Building the two workers: control (workflows + CPU activities, queue ct) and GPU (training, queue ct-gpu).
import { createRequire } from 'node:module';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createControlActivities, createGpuActivities, type ActivityDeps } from '../activities';
import { gpuTaskQueueOf } from '../core/taskQueues';
import { GpuPool } from '../adapters/gpuPool';
import { discoverGpus } from './gpuSlots';

const require = createRequire(import.meta.url);
export const workflowsPath = require.resolve('../workflows/index.ts');

export interface WorkerWiring {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (tests build one and reuse it); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkflowBundleOption;
}

export async function createControlWorker(w: WorkerWiring): Promise<Worker> {
  return Worker.create({
    connection: w.connection,
    namespace: w.namespace,
    taskQueue: w.taskQueue,
    ...(w.workflowBundle ? { workflowBundle: w.workflowBundle } : { workflowsPath }),
    activities: createControlActivities(w.deps),
    shutdownGraceTime: '20s',
  });
}

export interface GpuWorkerWiring extends WorkerWiring {
  logger: Logger;
  client: Client;
  gpusPerJob: number;
  /** Aborted on SIGTERM/SIGINT: running trainers checkpoint at once and their attempts are retried elsewhere. */
  shutdownSignal?: AbortSignal;
}

export async function createGpuWorker(w: GpuWorkerWiring): Promise<Worker> {
  const inventory = discoverGpus();
  const gpuPool = new GpuPool(inventory.gpus, w.gpusPerJob);
  if (inventory.gpus.length === 0)
    w.logger.warn('no GPU found (nvidia-smi / CUDA_VISIBLE_DEVICES): training runs on CPU with 1 slot');
  else
    w.logger.info(
      { gpus: inventory.gpus, source: inventory.source, gpusPerJob: w.gpusPerJob, slots: gpuPool.slots },
      'GPUs discovered',
    );
  return Worker.create({
    connection: w.connection,
    namespace: w.namespace,
    taskQueue: gpuTaskQueueOf(w.taskQueue),
    activities: createGpuActivities({ ...w.deps, client: w.client, gpuPool, shutdownSignal: w.shutdownSignal }),
    maxConcurrentActivityTaskExecutions: gpuPool.slots,
    // Send training heartbeats at most 1 s apart (the SDK would wait up to 80% of the heartbeat timeout), so the
    // server's view of progress, checkpoint and lost work is never more than a second old.
    maxHeartbeatThrottleInterval: '1s',
    // Time for running trainers to write a checkpoint after the cancellation that shutdown sends them.
    shutdownGraceTime: '60s',
  });
}
