// A small client of MLflow's REST API (tracking, the mlflow-artifacts proxy, the model registry) over global fetch.
// Only the calls a run's tracking needs; each answer we rely on is parsed with zod. Credentials (a token or a user
// and password, as MLflow's own clients take them from MLFLOW_TRACKING_*) go in a header and are never logged.
import type { Readable } from 'node:stream';
import { Readable as NodeReadable } from 'node:stream';
import { z } from 'zod';
import type { KeyValue, LogBatch } from '../core/tracking';

const TIMEOUT_MS = 15_000;
/** A model file may be large: its upload gets longer (the activity's own timeout bounds it too). */
const UPLOAD_TIMEOUT_MS = 4 * 60_000;
const API = '/api/2.0/mlflow';

/** An error answer of the server: its HTTP status and MLflow's error code (RESOURCE_ALREADY_EXISTS, …). */
export class MlflowError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'MlflowError';
  }
}

/** The server could not be reached (refused, reset, timed out): worth retrying later. */
export class MlflowUnreachableError extends Error {
  override name = 'MlflowUnreachableError';
}

const RunInfo = z.object({
  run_id: z.string(),
  experiment_id: z.string(),
  artifact_uri: z.string(),
  status: z.string().optional(),
});
export type MlflowRunInfo = z.infer<typeof RunInfo>;
const ModelVersion = z.object({ name: z.string(), version: z.string(), run_id: z.string().optional() });

export interface MlflowAuth {
  token?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
}

/** The Authorization header of `auth` (bearer token, else basic), or none. */
export function authorizationOf(auth: MlflowAuth): string | null {
  if (auth.token) return `Bearer ${auth.token}`;
  if (auth.username && auth.password)
    return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  return null;
}

export class MlflowTracking {
  private readonly base: string;
  private readonly authorization: string | null;

  constructor(
    uri: string,
    auth: MlflowAuth = {},
    private readonly timeoutMs = TIMEOUT_MS,
  ) {
    this.base = uri.replace(/\/+$/, '');
    this.authorization = authorizationOf(auth);
  }

  /** The server's address, for messages (the URI without any user info or path). */
  get address(): string {
    return new URL(this.base).origin;
  }

  /** The experiment's id; created when missing (a concurrent create is fine). */
  async experimentId(name: string): Promise<string> {
    const found = await this.experimentByName(name);
    if (found) return found;
    try {
      const created = await this.call('POST', '/experiments/create', { name });
      return z.object({ experiment_id: z.string() }).parse(created).experiment_id;
    } catch (err) {
      if (!(err instanceof MlflowError && err.code === 'RESOURCE_ALREADY_EXISTS')) throw err;
      const raced = await this.experimentByName(name);
      if (!raced) throw err;
      return raced;
    }
  }

  private async experimentByName(name: string): Promise<string | null> {
    try {
      const res = await this.call('GET', `/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
      return z.object({ experiment: z.object({ experiment_id: z.string() }) }).parse(res).experiment.experiment_id;
    } catch (err) {
      if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw err;
    }
  }

  /** The run of the experiment tagged `key` = `value` (a retried activity finds the run it created), or null. */
  async findRunByTag(experimentId: string, key: string, value: string): Promise<MlflowRunInfo | null> {
    const filter = `tags.\`${key}\` = '${value.replace(/'/g, "\\'")}'`;
    const res = await this.call('POST', '/runs/search', {
      experiment_ids: [experimentId],
      filter,
      max_results: 1,
    });
    const runs = z.object({ runs: z.array(z.object({ info: RunInfo })).default([]) }).parse(res).runs;
    return runs[0]?.info ?? null;
  }

  async createRun(experimentId: string, runName: string, startTime: number, tags: KeyValue[]): Promise<MlflowRunInfo> {
    const res = await this.call('POST', '/runs/create', {
      experiment_id: experimentId,
      run_name: runName,
      start_time: startTime,
      tags,
    });
    return z.object({ run: z.object({ info: RunInfo }) }).parse(res).run.info;
  }

  /** One log-batch request (the caller keeps it within MLflow's limits: core/tracking.ts logBatches). */
  async logBatch(runId: string, batch: LogBatch): Promise<void> {
    await this.call('POST', '/runs/log-batch', { run_id: runId, ...batch });
  }

  async endRun(runId: string, status: 'FINISHED' | 'FAILED' | 'KILLED', endTime: number): Promise<void> {
    await this.call('POST', '/runs/update', { run_id: runId, status, end_time: endTime });
  }

  /** Uploads one file under the run's artifacts through the server's mlflow-artifacts proxy. */
  async uploadArtifact(artifactUri: string, path: string, body: Readable, size: number): Promise<void> {
    const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.+)$/.exec(artifactUri);
    if (!m)
      throw new MlflowError(
        `the run's artifact location ${artifactUri} is not served by the tracking server: start it with --serve-artifacts`,
        400,
        'ARTIFACTS_NOT_SERVED',
      );
    const target = `${m[1]!.replace(/\/+$/, '')}/${path}`.split('/').map(encodeURIComponent).join('/');
    await this.send('PUT', `/api/2.0/mlflow-artifacts/artifacts/${target}`, {
      body: NodeReadable.toWeb(body) as ReadableStream,
      duplex: 'half',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      timeoutMs: UPLOAD_TIMEOUT_MS,
    });
  }

  /** Creates the registered model unless it exists. */
  async ensureRegisteredModel(name: string): Promise<void> {
    try {
      await this.call('POST', '/registered-models/create', { name });
    } catch (err) {
      if (!(err instanceof MlflowError && err.code === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
  }

  /** The first model version of `name` whose tag `key` is `value`, or null. */
  async findModelVersion(name: string, key: string, value: string): Promise<string | null> {
    const q = (s: string) => s.replace(/'/g, "\\'");
    const filter = `name='${q(name)}' and tags.\`${key}\`='${q(value)}'`;
    const res = await this.call('GET', `/model-versions/search?filter=${encodeURIComponent(filter)}&max_results=10`);
    const versions = z.object({ model_versions: z.array(ModelVersion).default([]) }).parse(res).model_versions;
    return versions[0]?.version ?? null;
  }

  async createModelVersion(name: string, source: string, runId: string, tags: KeyValue[]): Promise<string> {
    const res = await this.call('POST', '/model-versions/create', { name, source, run_id: runId, tags });
    return z.object({ model_version: ModelVersion }).parse(res).model_version.version;
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call('POST', '/registered-models/alias', { name, alias, version });
  }

  /** A JSON call to the tracking API. */
  async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const res = await this.send(method, API + path, {
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    return text ? (JSON.parse(text) as unknown) : {};
  }

  private async send(
    method: string,
    path: string,
    { timeoutMs = this.timeoutMs, ...init }: RequestInit & { duplex?: 'half'; timeoutMs?: number },
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.authorization) headers.set('authorization', this.authorization);
    const what = `${method} ${path.split('?')[0]}`;
    let res: Response;
    try {
      res = await fetch(this.base + path, { ...init, method, headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const cause = (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new MlflowUnreachableError(`MLflow tracking server ${this.address} unreachable (${what}): ${cause}`, {
        cause: err,
      });
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    const parsed = z.object({ error_code: z.string(), message: z.string() }).safeParse(safeJson(text));
    const code = parsed.success ? parsed.data.error_code : `HTTP_${res.status}`;
    const message = parsed.success ? parsed.data.message : text.slice(0, 300);
    throw new MlflowError(
      `MLflow ${this.address} refused ${what}: HTTP ${res.status} ${code}: ${message}`,
      res.status,
      code,
    );
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
