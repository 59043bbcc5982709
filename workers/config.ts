// Loading the runtime configuration (ct.config.* + environment) and turning it into clients.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnection } from '@temporalio/worker';
import YAML from 'yaml';
import type { Logger } from 'pino';
import type { ActivityDeps } from '../activities';
import type { IdentityService } from '../activities/context';
import { AuditLog } from '../adapters/auditLog';
import { DatasetCache } from '../adapters/datasetCache';
import { tools } from '../stack/paths';
import { ObjectStore, createS3Client } from '../adapters/objectStore';
import { AppConfig, identityMode, mergeEnv } from '../core/appConfig';
import { OidcVerifier } from '../adapters/oidcVerifier';
import { logPushback } from '../client/pushback';
import { reportDrift, requestRetrain } from '../client/supervisor';
import { InvalidInputError, parseOrThrow } from '../core/parse';
import { dataConverterOf } from './dataConverter';

const CONFIG_FILES = ['ct.config.json', 'ct.config.yaml', 'ct.config.yml'];

/** A JSON or YAML file's content; a missing or unparsable file is bad input (exit 2), like an invalid one. */
export function readStructuredFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidInputError(`file ${file}`, [
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (err as Error).message,
    ]);
  }
  try {
    return file.endsWith('.json') ? (JSON.parse(text) as unknown) : (YAML.parse(text) as unknown);
  } catch (err) {
    throw new InvalidInputError(`file ${file}`, [
      `not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    ]);
  }
}

/** CT_CONFIG names the file; otherwise the first ct.config.{json,yaml,yml} in `cwd`; the environment overrides it. */
export function loadAppConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppConfig {
  const file = env.CT_CONFIG
    ? path.resolve(cwd, env.CT_CONFIG)
    : CONFIG_FILES.map((f) => path.join(cwd, f)).find((f) => existsSync(f));
  if (env.CT_CONFIG && !existsSync(file!))
    throw new InvalidInputError('configuration', [`CT_CONFIG points at ${file}, which does not exist`]);
  const content = file ? readStructuredFile(file) : {};
  if (typeof content !== 'object' || content === null || Array.isArray(content))
    throw new InvalidInputError(`configuration ${file}`, ['(root): must hold an object']);
  return parseOrThrow(
    AppConfig,
    mergeEnv(content as Record<string, unknown>, env),
    `configuration${file ? ` (${file} + environment)` : ' (environment)'}`,
  );
}

/** Temporal connection from the envconfig profile (TEMPORAL_* variables, temporal.toml), our overrides on top. */
export function temporalConnectConfig(config: AppConfig) {
  const profile = loadClientConnectConfig({ profile: config.temporal.profile });
  return {
    connectionOptions: {
      ...profile.connectionOptions,
      address: config.temporal.address ?? profile.connectionOptions.address ?? '127.0.0.1:7233',
    },
    namespace: config.temporal.namespace ?? profile.namespace ?? 'default',
  };
}

/** Temporal did not answer at the configured address; the message names it (the CLI exits 2). */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
}

/** `connect()`, its failure named by the address it tried. */
async function reachTemporal<T>(address: string, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    throw new TemporalUnreachableError(`cannot reach Temporal at ${address}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** A client whose payloads go through this configuration's codec (refused without keys, workers/dataConverter). */
export async function connectClient(config: AppConfig): Promise<Client> {
  const dataConverter = dataConverterOf(config);
  const { connectionOptions, namespace } = temporalConnectConfig(config);
  const connection = await reachTemporal(connectionOptions.address, () => Connection.connect(connectionOptions));
  return new Client({ connection, namespace, dataConverter });
}

/** A worker connection, with the data converter the workers built on it must use. */
export async function connectWorker(
  config: AppConfig,
): Promise<{ connection: NativeConnection; namespace: string; dataConverter: DataConverter }> {
  const dataConverter = dataConverterOf(config);
  const { connectionOptions, namespace } = temporalConnectConfig(config);
  // Loaded here, not at the top: the CLI imports this module, and the worker SDK (its native core) costs every
  // `ct` command about half a second to load.
  const { NativeConnection } = await import('@temporalio/worker');
  const connect = () => NativeConnection.connect(connectionOptions);
  return { connection: await reachTemporal(connectionOptions.address, connect), namespace, dataConverter };
}

export function createObjectStore(config: AppConfig): ObjectStore {
  return new ObjectStore(
    createS3Client(config.s3),
    config.s3.bucket,
    config.s3.endpoint ?? `AWS S3 (${config.s3.region})`,
  );
}

/** The audit log: its own bucket (Object Lock needs to be enabled when a bucket is created). */
export function createAuditLog(config: AppConfig): AuditLog {
  return new AuditLog(
    new ObjectStore(
      createS3Client(config.s3),
      AuditLog.bucketName(config),
      config.s3.endpoint ?? `AWS S3 (${config.s3.region})`,
    ),
    config.audit,
  );
}

/** The dependencies every activity factory receives, built from the runtime configuration and a client. */
export function activityDeps(config: AppConfig, logger: Logger, client?: Client): ActivityDeps {
  const onPushback = logPushback(logger.child({ component: 'supervisor-messenger' }));
  return {
    ...(client
      ? {
          client,
          supervisor: {
            reportDrift: (alert, options) => reportDrift(client, alert, { ...options, onPushback }),
            requestRetrain: (modelId, request, options) =>
              requestRetrain(client, modelId, request, { ...options, onPushback }),
          },
        }
      : {}),
    store: createObjectStore(config),
    logger,
    workDir: path.resolve(config.workDir),
    pythonBinDir: path.dirname(config.python ?? tools.python),
    gitCommit: gitCommit(),
    audit: createAuditLog(config),
    datasetCache: config.datasetCacheMiB > 0 ? new DatasetCache(config.datasetCacheMiB * 1024 * 1024) : undefined,
    approvalSecret: config.approvalSecret,
    identity: identityService(config),
    notifySecret: config.notifications.secret,
    ...(config.ray ? { ray: config.ray } : {}),
  };
}

/** How these workers establish who acted; fails at start-up for dev mode outside the local stack. */
export function identityService(config: AppConfig): IdentityService {
  const mode = identityMode(config);
  const verifier = mode === 'oidc' ? new OidcVerifier(config.identity.oidc!) : undefined;
  return {
    mode,
    verify: (token) => verifier!.verify(token),
  };
}

export function gitCommit(cwd = process.cwd()): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}
