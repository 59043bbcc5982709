// Building the two workers: control (workflows + CPU activities, queue ct) and GPU (training, queue ct-gpu).
import { createRequire } from 'node:module';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import os from 'node:os';
import { NativeConnection, Worker, type WorkerOptions, type WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createControlActivities, createGpuActivities, type ActivityDeps } from '../activities';
import type { AppConfig } from '../core/appConfig';
import { gpuTaskQueueOf } from '../core/taskQueues';
import { GpuPool } from '../adapters/gpuPool';
import { discoverGpus } from './gpuSlots';
import { heartbeatWhileRunning } from './activityHeartbeats';

const require = createRequire(import.meta.url);
export const workflowsPath = require.resolve('../workflows/index.ts');

export interface WorkerWiring {
  connection: NativeConnection;
  namespace: string;
  /** Payload codec and failure converter (workers/dataConverter); a prebuilt bundle must use the same converter. */
  dataConverter: DataConverter;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (tests build one and reuse it); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  deployment: AppConfig['deployment'];
  workflowCache: AppConfig['workflowCache'];
}

/**
 * Worker Versioning, when this build has an id: the workers poll as that version of the deployment. A workflow that
 * declares no behaviour upgrades to the current build at its next task; retrainingPipeline stays pinned.
 */
function versioning(d: AppConfig['deployment']): Partial<WorkerOptions> {
  if (!d.buildId) return {};
  return {
    workerDeploymentOptions: {
      version: { deploymentName: d.name, buildId: d.buildId },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'AUTO_UPGRADE',
    },
    // The build in each history event's worker identity: which build ran which task is on record.
    identity: `${process.pid}@${os.hostname()} ${d.name}.${d.buildId}`,
  };
}

export async function createControlWorker(w: WorkerWiring): Promise<Worker> {
  return Worker.create({
    connection: w.connection,
    namespace: w.namespace,
    dataConverter: w.dataConverter,
    taskQueue: w.taskQueue,
    ...(w.workflowBundle ? { workflowBundle: w.workflowBundle } : { workflowsPath }),
    activities: createControlActivities(w.deps),
    interceptors: { activity: [heartbeatWhileRunning] },
    // The cache bounds the worker's memory whatever the number of models (core/appConfig.ts, README "Scale"); the
    // workflow tasks that may run at once stay within it, as the SDK requires.
    maxCachedWorkflows: w.workflowCache.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: Math.min(40, w.workflowCache.maxCachedWorkflows),
    shutdownGraceTime: '20s',
    ...versioning(w.deployment),
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
    dataConverter: w.dataConverter,
    taskQueue: gpuTaskQueueOf(w.taskQueue),
    activities: createGpuActivities({ ...w.deps, client: w.client, gpuPool, shutdownSignal: w.shutdownSignal }),
    maxConcurrentActivityTaskExecutions: gpuPool.slots,
    // Send training heartbeats at most 1 s apart (the SDK would wait up to 80% of the heartbeat timeout), so the
    // server's view of progress, checkpoint and lost work is never more than a second old.
    maxHeartbeatThrottleInterval: '1s',
    // Time for running trainers to write a checkpoint after the cancellation that shutdown sends them.
    shutdownGraceTime: '60s',
    ...versioning(w.deployment),
  });
}
