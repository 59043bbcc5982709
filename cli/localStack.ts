// The embedded local stack (Temporal dev server + Web UI, MinIO) that `ct dev` and the demo run, with its
// state in .ct/state so workflows, registry and data survive a restart.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { AppConfig, type AppConfigInput, mergeEnv, MetricsConfig } from '../core/appConfig';
import { parseOrThrow } from '../core/parse';
import { startMinio } from '../stack/minio';
import { stateDir } from '../stack/paths';
import { type ManagedProcess, tcpOpen } from '../stack/processes';
import { startTemporalDevServer } from '../temporal/devServer';
import type { ObjectStore } from '../adapters/objectStore';
import { createObjectStore, loadAppConfig } from '../workers/config';

export const localPorts = {
  temporal: Number(process.env.CT_DEV_TEMPORAL_PORT ?? 7233),
  ui: Number(process.env.CT_DEV_UI_PORT ?? 8233),
  s3: Number(process.env.CT_DEV_S3_PORT ?? 9000),
};

/** `ct dev` serves the workers' metrics unless told otherwise: control on this port, GPU on the next. */
const DEV_METRICS_PORT = 9464;

/** Where `ct dev`'s control and GPU workers serve metrics: CT_METRICS_HOST and CT_METRICS_PORT (control; GPU +1). */
export function devMetrics(env: NodeJS.ProcessEnv = process.env): { control: MetricsConfig; gpu: MetricsConfig } {
  const what = 'metrics of `ct dev` (CT_METRICS_HOST, CT_METRICS_PORT)';
  const given = parseOrThrow(MetricsConfig, mergeEnv({}, env).metrics ?? {}, what);
  const control = { ...given, port: given.port ?? DEV_METRICS_PORT };
  const gpu = parseOrThrow(MetricsConfig, { ...control, port: control.port + 1 }, `${what}: the GPU worker's port`);
  return { control, gpu };
}

/** The environment that makes a worker serve its metrics as `m` says. */
export function metricsEnv(m: MetricsConfig): Record<string, string> {
  return { CT_METRICS_HOST: m.host, ...(m.port ? { CT_METRICS_PORT: String(m.port) } : {}) };
}

const LOCAL_CREDENTIALS = { accessKeyId: 'ct-local', secretAccessKey: 'ct-local-secret' };

/** The environment variables that point a worker or CLI process at the local stack. */
export function localEnv(ports = localPorts): Record<string, string> {
  return {
    CT_TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    CT_TEMPORAL_NAMESPACE: 'default',
    CT_S3_ENDPOINT: `http://127.0.0.1:${ports.s3}`,
    CT_S3_BUCKET: 'ct-local',
    CT_S3_FORCE_PATH_STYLE: 'true',
    CT_S3_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    CT_S3_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
}

/** The user's configuration when they have one (CT_CONFIG, ct.config.*, CT_S3_BUCKET), else the local stack's. */
export function cliConfig(env: NodeJS.ProcessEnv = process.env): { config: AppConfig; local: boolean } {
  const hasOwn =
    Boolean(env.CT_CONFIG || env.CT_S3_BUCKET) ||
    ['ct.config.json', 'ct.config.yaml', 'ct.config.yml'].some((f) => existsSync(path.resolve(f)));
  if (hasOwn) return { config: loadAppConfig(env), local: false };
  const local: AppConfigInput = { s3: { bucket: 'ct-local' } };
  return {
    config: parseOrThrow(
      AppConfig,
      mergeEnv(local as Record<string, unknown>, { ...localEnv(), ...env }),
      'configuration',
    ),
    local: true,
  };
}

/**
 * Runs `fn` against the configured object store; for the local stack when `ct dev` is not running, MinIO is
 * started on .ct/state for the duration (so `ct models show` works after the demo has exited).
 */
export async function withObjectStore<T>(fn: (store: ObjectStore) => Promise<T>): Promise<T> {
  const { config, local } = cliConfig();
  if (!local || (await tcpOpen(localPorts.s3)) || !existsSync(path.join(stateDir, 'minio')))
    return fn(createObjectStore(config));
  const minio = await startMinio({ dataDir: path.join(stateDir, 'minio'), port: localPorts.s3, ...LOCAL_CREDENTIALS });
  try {
    return await fn(createObjectStore(config));
  } finally {
    await minio.process.stop();
  }
}

/** The local Temporal dev server on its fixed ports, state in .ct/state/temporal (restarting it loses nothing). */
export async function startLocalTemporal(
  opts: { ui?: boolean; uiCodecEndpoint?: string } = {},
): Promise<ManagedProcess> {
  const dataDir = path.join(stateDir, 'temporal');
  mkdirSync(dataDir, { recursive: true });
  const { temporal: port, ui: uiPort } = localPorts;
  const { uiCodecEndpoint } = opts;
  return (await startTemporalDevServer({ dataDir, port, uiPort, ui: opts.ui ?? true, uiCodecEndpoint })).process;
}

/** The local MinIO on its fixed port, data in .ct/state/minio (restarting it loses nothing). */
export async function startLocalMinio(): Promise<ManagedProcess> {
  const dataDir = path.join(stateDir, 'minio');
  mkdirSync(dataDir, { recursive: true });
  return (await startMinio({ dataDir, port: localPorts.s3, ...LOCAL_CREDENTIALS })).process;
}

/** Creates the local bucket (versioned) unless it exists. */
export async function ensureLocalBucket(): Promise<void> {
  await createObjectStore(cliConfig({ ...localEnv() }).config).ensureBucket();
}

export interface LocalStack {
  uiUrl: string;
  reused: boolean;
  stop(): Promise<void>;
}

/**
 * Starts Temporal and MinIO on the local ports with state in .ct/state, or reuses them when a `ct dev`
 * is already serving both; creates the bucket (versioned).
 */
/** The Web UI of the local stack: the origin `ct codec-server` admits unless codec.uiOrigin says otherwise. */
export const localUiUrl = () => `http://127.0.0.1:${localPorts.ui}`;

export async function ensureLocalStack(opts: { ui?: boolean } = {}): Promise<LocalStack> {
  const uiUrl = localUiUrl();
  const [temporalUp, s3Up] = await Promise.all([tcpOpen(localPorts.temporal), tcpOpen(localPorts.s3)]);
  const procs: ManagedProcess[] = [];
  if (temporalUp !== s3Up) {
    throw new Error(
      `port ${temporalUp ? localPorts.temporal : localPorts.s3} is in use but port ${temporalUp ? localPorts.s3 : localPorts.temporal} is not: ` +
        'stop whatever holds it, or choose other ports with CT_DEV_TEMPORAL_PORT / CT_DEV_UI_PORT / CT_DEV_S3_PORT',
    );
  }
  if (!temporalUp) {
    const temporal = await startLocalTemporal(opts);
    procs.push(temporal);
    procs.push(
      await startLocalMinio().catch(async (err: unknown) => {
        await temporal.stop();
        throw err;
      }),
    );
  }
  await ensureLocalBucket();
  return {
    uiUrl,
    reused: temporalUp,
    async stop() {
      for (const p of procs.reverse()) await p.stop();
    },
  };
}
