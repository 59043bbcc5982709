// One chaos cell's own servers: a Temporal dev server with its state on disk and MinIO, both on fixed ports so
// either can be stopped and started again on the same port and data; one tenant (bucket, task queue, work folder);
// workers in this process or as their own OS processes; the model registered and runs asked of its supervisor.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { requestRetrain, supervisorStatus } from '../../client';
import { ObjectStore, createS3Client } from '../../adapters/objectStore';
import { AppConfig } from '../../core/appConfig';
import type { SupervisorStatus } from '../../core/continuousTraining';
import { keys } from '../../core/keys';
import { ModelConfig } from '../../core/modelConfig';
import type { RunStatus } from '../../core/runStatus';
import { killMinio, minioS3, startMinio, type MinioServer } from '../../stack/minio';
import { freePort, type ManagedProcess } from '../../stack/processes';
import { startTemporalDevServer, type DevServer } from '../../temporal/devServer';
import { createAuditLog } from '../../workers/config';
import { startInProcessWorkers, type RunningWorkers } from '../../workers/inProcess';
import type { retrainingPipeline } from '../../workflows';
import { flightsParquet, readFlightsSlice } from '../helpers/flights';
import { startWorkerProcess, waitFor } from '../helpers/processes';
import { workflowBundle } from '../helpers/stack';
import { TEST_CODEC_KEYS, testDataConverter } from '../helpers/codec';

export const MODEL_ID = 'chaos';
/** Where the cell's data windows land (continuousTraining.data.prefix). */
export const DATA_PREFIX = 'data/';

export interface CellStack {
  dir: string;
  config: AppConfig;
  store: ObjectStore;
  /** The client of the cell's server (the same one across restarts: its channel reconnects). */
  client(): Client;
  minio(): MinioServer;
  /** The bucket's folder in MinIO's data folder: objects appear there as `<key>/xl.meta` while MinIO writes them. */
  bucketDir: string;
  /** Stops the Temporal server (SIGTERM); the function returned starts it again on the same port and SQLite file. */
  stopTemporal(): Promise<() => Promise<void>>;
  /** Kills MinIO (-9); the function returned starts it again on the same port and data. */
  killObjectStore(): Promise<() => Promise<void>>;
  /** Control and GPU worker in this process (`gpu: false`: control only). */
  startWorkers(options?: { gpu?: boolean; workDir?: string }): Promise<RunningWorkers>;
  /** A worker as its own OS process (stopped with the cell). */
  startWorkerProcess(kind: 'control' | 'gpu', name: string): Promise<ManagedProcess>;
  /** Registers the model (the chaos model config with `overrides`) so its supervisor can start runs. */
  registerModel(config: ModelConfig): Promise<void>;
  /** Asks the supervisor for a retrain and returns the workflow id of the run it started. */
  requestRun(reason: string): Promise<string>;
  /** The run's result (its outcome) once it has ended; waits through server restarts. */
  runResult(workflowId: string): Promise<RunStatus>;
  supervisor(): Promise<SupervisorStatus>;
  stop(): Promise<void>;
}

export async function startCellStack(dir: string, logger: Logger, options: { rows?: number } = {}): Promise<CellStack> {
  mkdirSync(dir, { recursive: true });
  const temporalPort = await freePort();
  let temporal: DevServer = await startTemporalDevServer({ dataDir: dir, port: temporalPort, ui: false });
  const minioDir = path.join(dir, 'minio');
  let minio = await startMinio({ dataDir: minioDir });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter: testDataConverter() });
  const config = AppConfig.parse({
    temporal: { address: temporal.address, namespace: temporal.namespace },
    s3: minioS3(minio, 'ct-chaos'),
    taskQueue: 'ct-chaos',
    workDir: path.join(dir, 'work'),
    codec: { keys: TEST_CODEC_KEYS },
  });
  const store = new ObjectStore(createS3Client(config.s3), config.s3.bucket, config.s3.endpoint);
  await store.ensureBucket();
  await createAuditLog(config).ensureBucket();
  await store.put(`${DATA_PREFIX}2001-01.parquet`, flightsParquet(await readFlightsSlice(0, options.rows ?? 20_000)));
  const workers: RunningWorkers[] = [];
  const processes: ManagedProcess[] = [];
  const supervisor = () => supervisorStatus(client, MODEL_ID);

  return {
    dir,
    config,
    store,
    client: () => client,
    minio: () => minio,
    bucketDir: path.join(minioDir, config.s3.bucket),
    async stopTemporal() {
      // The client's connection stays: its channel reconnects to the same port, so calls in flight are retried.
      await temporal.process.stop();
      return async () => {
        temporal = await startTemporalDevServer({ dataDir: dir, port: temporalPort, ui: false });
      };
    },
    async killObjectStore() {
      const restart = await killMinio(minio, minioDir);
      return async () => {
        minio = await restart();
      };
    },
    async startWorkers(options = {}) {
      const cfg = options.workDir ? { ...config, workDir: options.workDir } : config;
      const w = await startInProcessWorkers(cfg, logger, { code: (await workflowBundle()).code }, options);
      workers.push(w);
      return w;
    },
    async startWorkerProcess(kind, name) {
      const proc = await startWorkerProcess(kind, config, dir, name, { CT_LOG_LEVEL: 'info' });
      processes.push(proc);
      return proc;
    },
    async registerModel(modelConfig) {
      await store.putJson(keys.registeredConfig(MODEL_ID), ModelConfig.parse({ ...modelConfig, modelId: MODEL_ID }));
    },
    async requestRun(reason) {
      const ack = await requestRetrain(
        client,
        MODEL_ID,
        { requestedBy: 'chaos', reason, requestId: `chaos-${reason}` },
        { taskQueue: config.taskQueue },
      );
      if (ack.action !== 'started') throw new Error(`the supervisor did not start a run: ${ack.message}`);
      return waitFor('the supervisor to start the run', async () => (await supervisor()).incident?.run?.workflowId);
    },
    async runResult(workflowId) {
      for (;;) {
        try {
          return await client.workflow.getHandle<typeof retrainingPipeline>(workflowId).result();
        } catch (err) {
          if (!/UNAVAILABLE|ECONNREFUSED|Connection|closed/i.test(String((err as Error).message))) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
    supervisor,
    async stop() {
      for (const w of workers) await w.stop().catch(() => undefined);
      for (const p of processes) await p.stop();
      await connection.close().catch(() => undefined);
      await Promise.all([temporal.process.stop(), minio.process.stop()]);
    },
  };
}
