// A real, isolated stack per test file: Temporal dev server and MinIO on free ports with fresh state,
// a fresh bucket, real workers (in this process) on a fresh task queue.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import proto from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../../core/searchAttributes';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import pino from 'pino';
import { ObjectStore, createS3Client } from '../../adapters/objectStore';
import { AppConfig } from '../../core/appConfig';
import { killMinio, minioS3, startMinio, type MinioServer } from '../../stack/minio';
import { startTemporalDevServer, type DevServer } from '../../temporal/devServer';
import { installRuntimeLogger } from '../../workers/runtime';
import { startInProcessWorkers, type RunningWorkers } from '../../workers/inProcess';
import { workflowsPath } from '../../workers/workers';
import { failureConverterPath } from '../../workers/dataConverter';
import { projectRoot, tools } from '../../stack/paths';
import { flightsParquet, readFlightsSlice } from './flights';
import { startTestCodecServer, TEST_CODEC_KEYS, testDataConverter } from './codec';
import { freePort } from '../../stack/processes';

export interface TestStack {
  dir: string;
  temporal: DevServer;
  minio: MinioServer;
  client: Client;
  /** A configuration for one isolated tenant: its own bucket and task queue. */
  tenant(overrides?: Partial<AppConfig['s3']>): { config: AppConfig; store: ObjectStore };
  startWorkers(config: AppConfig, options?: { gpu?: boolean }): Promise<RunningWorkers>;
  /** An object-store outage: kills MinIO (-9); the function returned starts it again on the same port and data. */
  killObjectStore(): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

/**
 * The workflow bundle, built once per source state and shared by every test file through a file under .ct/ (each
 * file runs in its own process, and bundling costs seconds of CPU each time). Keyed by a digest of everything the
 * bundle can contain (workflows/, core/, the lockfile) and of this file, which holds the bundler's options.
 */
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= cachedBundle();
  return bundle;
}

async function cachedBundle(): Promise<WorkflowBundleWithSourceMap> {
  const digest = createHash('sha256');
  const files = ['workflows', 'core'].flatMap((dir) =>
    readdirSync(path.join(projectRoot, dir), { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)),
  );
  for (const f of [...files.filter((f) => f.endsWith('.ts')).sort(), 'package-lock.json', 'test/helpers/stack.ts']) {
    digest.update(f).update(readFileSync(path.join(projectRoot, f)));
  }
  const file = path.join(projectRoot, '.ct', 'cache', `workflow-bundle-${digest.digest('hex').slice(0, 16)}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as WorkflowBundleWithSourceMap;
  } catch {
    const built = await bundleWorkflowCode({
      workflowsPath,
      failureConverterPath,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    try {
      const dir = path.dirname(file);
      mkdirSync(dir, { recursive: true });
      for (const old of readdirSync(dir).filter((f) => f.startsWith('workflow-bundle-') && f.endsWith('.json'))) {
        rmSync(path.join(dir, old), { force: true }); // an earlier source state's
      }
      const partial = `${file}.${process.pid}`; // renamed into place whole: files bundling side by side never mix
      writeFileSync(partial, JSON.stringify(built));
      renameSync(partial, file);
    } catch (err) {
      testLogger.warn({ err: (err as Error).message }, 'workflow bundle not cached');
    }
    return built;
  }
}

const recentLogLines: string[] = [];
/** The tests' logger (level CT_TEST_LOG_LEVEL, default warn): every line goes to stdout and to {@link loggedLines}. */
export const testLogger = pino(
  { level: process.env.CT_TEST_LOG_LEVEL ?? 'warn' },
  {
    write(line: string) {
      recentLogLines.push(line);
      if (recentLogLines.length > 10_000) recentLogLines.shift();
      process.stdout.write(line);
    },
  },
);
/** The log lines written so far (the last 10,000) whose JSON has a `msg` matching `msg`, parsed. */
export function loggedLines(msg: RegExp): Record<string, unknown>[] {
  return recentLogLines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => typeof l.msg === 'string' && msg.test(l.msg));
}

export async function startTestStack(options: { maxInFlightUpdates?: number; ui?: boolean } = {}): Promise<TestStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-test-'));
  installRuntimeLogger(testLogger);
  // With the Web UI: it decrypts payloads through a codec server with the test key, which admits the UI's origin.
  const uiPort = await freePort();
  const codec = options.ui ? await startTestCodecServer(`http://127.0.0.1:${uiPort}`) : undefined;
  // One after the other: the dev server binds internal ports of its own that MinIO's probe could pick.
  const temporal = await startTemporalDevServer({
    dataDir: dir,
    ui: false,
    ...options,
    uiPort,
    uiCodecEndpoint: codec?.url,
  });
  const minioDir = path.join(dir, 'minio');
  let minio = await startMinio({ dataDir: minioDir }).catch(async (err: unknown) => {
    await Promise.all([temporal.process.stop(), codec?.close()]);
    throw err;
  });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter: testDataConverter() });
  const workers: RunningWorkers[] = [];
  return {
    dir,
    temporal,
    get minio() {
      return minio;
    },
    client,
    tenant(overrides = {}) {
      const id = randomUUID().slice(0, 8);
      const config = AppConfig.parse({
        temporal: { address: temporal.address, namespace: temporal.namespace },
        s3: { ...minioS3(minio, `ct-test-${id}`), ...overrides },
        taskQueue: `ct-test-${id}`,
        workDir: path.join(dir, 'work', id),
        codec: { keys: TEST_CODEC_KEYS },
      });
      return { config, store: new ObjectStore(createS3Client(config.s3), config.s3.bucket, config.s3.endpoint) };
    },
    async startWorkers(config, options) {
      const w = await startInProcessWorkers(config, testLogger, { code: (await workflowBundle()).code }, options);
      workers.push(w);
      return w;
    },
    async killObjectStore() {
      const restart = await killMinio(minio, minioDir);
      return async () => {
        minio = await restart();
      };
    },
    async stop() {
      for (const w of workers) await w.stop();
      await connection.close();
      await Promise.all([temporal.process.stop(), minio.process.stop(), codec?.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh tenant holding data/jan.parquet (the first 20,000 real flights) with both workers running. */
export async function flightsTenant(stack: TestStack): Promise<ReturnType<TestStack['tenant']>> {
  const tenant = stack.tenant();
  await tenant.store.ensureBucket();
  await tenant.store.put('data/jan.parquet', flightsParquet(await readFlightsSlice(0, 20_000)));
  await stack.startWorkers(tenant.config);
  return tenant;
}

/** With CT_RECORD_HISTORIES=1, writes the workflow's history as JSON (the form every SDK's replayer and the
 * Temporal CLI read) to test/histories/<name>.json for the replay tests. Works on both servers. */
export async function recordHistory(client: Client, name: string, workflowId: string, runId?: string): Promise<void> {
  if (process.env.CT_RECORD_HISTORIES !== '1') return;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  writeFileSync(path.join(projectRoot, 'test', 'histories', `${name}.json`), historyToJSON(history));
}

/** The time-skipping test server (hours pass in seconds) with our search attributes registered. */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    client: { dataConverter: testDataConverter() },
    server: { executable: { type: 'existing-path', path: tools.temporalTestServer } },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      ALL_SEARCH_ATTRIBUTES.map((k) => [
        k.name,
        proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  return env;
}
