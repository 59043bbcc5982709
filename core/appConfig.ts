// Runtime configuration of workers and the CLI (not of a model): where Temporal and S3 are, task queues.
// Read from a ct.config.{json,yaml} file and the environment (environment wins); invalid values fail at start-up.
import { z } from 'zod';
import { InvalidInputError } from './parse';
import { DEFAULT_TOLERANCE_SECONDS } from './signatureHeader';

/** Where a worker serves Prometheus metrics (the SDK's temporal_* and our ct_*); no port, no endpoint. */
export const MetricsConfig = z
  .object({
    host: z.string().min(1).default('127.0.0.1').describe('address the metrics endpoint binds to'),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe('serves http://<host>:<port>/metrics; unset: no metrics endpoint (`ct dev` uses 9464 and 9465)'),
  })
  .strict();
export type MetricsConfig = z.infer<typeof MetricsConfig>;

/**
 * The control worker's workflow cache. Each cached workflow costs ~2.2 MiB (its own instance of the workflow
 * modules); one evicted is replayed from its history at its next task (bench/load.ts measures both), so the cache,
 * not the number of models, bounds the worker's memory.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 250;
export const WorkflowCacheConfig = z
  .object({
    maxCachedWorkflows: z
      .number()
      .int()
      .min(2, 'at least 2: the SDK runs up to that many workflow tasks at once from the cache')
      .default(DEFAULT_MAX_CACHED_WORKFLOWS)
      .describe(
        'workflow executions the control worker keeps in memory (~2.2 MiB each); the others are replayed from history at their next task',
      ),
  })
  .strict();

/** Who a person is: self-declared names (`dev`, the local stack only) or verified OpenID Connect tokens (`oidc`). */
export const IdentityConfig = z
  .object({
    mode: z
      .enum(['dev', 'oidc'])
      .optional()
      .describe('unset: dev against the local stack, oidc anywhere else; dev is refused outside the local stack'),
    oidc: z
      .object({
        issuer: z.url().describe("the provider's issuer URL (its /.well-known/openid-configuration is read)"),
        clientId: z.string().min(1).default('ct').describe('the public OAuth client `ct login` signs in with'),
        audience: z.string().min(1).optional().describe('the audience tokens must carry; default: clientId'),
        rolesClaim: z.string().min(1).default('groups').describe('claim whose values are the roles of a person'),
        subjectClaim: z.string().min(1).default('sub').describe('claim that names a person in records'),
        clockSkewSeconds: z.number().int().min(0).max(600).default(60).describe('tolerance on exp and nbf'),
        scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email']),
      })
      .strict()
      .optional(),
  })
  .strict()
  .default({});
export type IdentityConfig = z.infer<typeof IdentityConfig>;
/** One AES-256-GCM key of the payload codec: its id travels with every payload it encrypted. */
export const CodecKey = z
  .object({
    id: z
      .string()
      .regex(/^[\w.-]{1,64}$/, 'letters, digits, ".", "-" and "_" only (at most 64)')
      .describe('names the key in each encrypted payload (metadata encryption-key-id)'),
    key: z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be the base64 of exactly 32 bytes (make one: openssl rand -base64 32)')
      .describe('base64 of 32 random bytes'),
    retired: z
      .boolean()
      .default(false)
      .describe('a retired key encrypts nothing, and a payload it encrypted is refused on decode'),
  })
  .strict();
export type CodecKey = z.infer<typeof CodecKey>;

/** The keys of the payload codec, oldest first: new payloads use the newest key that is not retired. */
export const CodecKeys = z
  .array(CodecKey)
  .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, 'key ids must be unique')
  .refine((keys) => keys.length === 0 || keys.some((k) => !k.retired), 'at least one key must not be retired');

export const CodecConfig = z
  .object({
    mode: z
      .enum(['encrypt', 'none'])
      .default('encrypt')
      .describe(
        'encrypt: every payload is AES-256-GCM encrypted (keys from codec.keys, or on the local stack a generated one); none: plaintext payloads',
      ),
    keys: CodecKeys.default([]).describe('oldest first; the newest key that is not retired encrypts'),
    uiOrigin: z
      .url()
      .optional()
      .describe('the Web UI origin allowed to call `ct codec-server` (CORS); default the local UI of `ct dev`'),
    server: z
      .object({
        host: z.string().min(1).default('127.0.0.1').describe('address `ct codec-server` binds to'),
        port: z.number().int().min(0).max(65535).default(8234).describe('port of `ct codec-server`'),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8234 }),
  })
  .strict();
export type CodecConfig = z.infer<typeof CodecConfig>;

export const AppConfig = z
  .object({
    temporal: z
      .object({
        address: z
          .string()
          .regex(/^[^\s:]+:\d+$/, 'expected host:port')
          .optional()
          .describe('overrides the envconfig profile'),
        namespace: z.string().min(1).optional().describe('overrides the envconfig profile'),
        profile: z
          .string()
          .min(1)
          .optional()
          .describe('profile in the Temporal envconfig TOML file (TEMPORAL_CONFIG_FILE)'),
      })
      .strict()
      .default({}),
    s3: z
      .object({
        endpoint: z.url().optional().describe('omit for AWS S3'),
        region: z.string().min(1).default('us-east-1'),
        bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name'),
        accessKeyId: z.string().min(1).optional().describe('omit to use the AWS default credential chain'),
        secretAccessKey: z.string().min(1).optional(),
        forcePathStyle: z.boolean().default(false),
      })
      .strict()
      .refine((s) => (s.accessKeyId === undefined) === (s.secretAccessKey === undefined), {
        message: 'give both accessKeyId and secretAccessKey, or neither',
        path: ['secretAccessKey'],
      }),
    taskQueue: z.string().min(1).default('ct').describe('control task queue; training runs on "<taskQueue>-gpu"'),
    deployment: z
      .object({
        name: z.string().min(1).default('ct').describe('Worker Deployment name'),
        buildId: z
          .string()
          .regex(/^[\w.-]{1,255}$/, 'letters, digits, ".", "-" and "_" only')
          .optional()
          .describe('this build under Temporal Worker Versioning; unset: unversioned workers'),
      })
      .strict()
      .default({ name: 'ct' }),
    workDir: z
      .string()
      .min(1)
      .default('.ct/work')
      .describe('scratch space of the workers (trainer inputs, checkpoints)'),
    python: z
      .string()
      .min(1)
      .optional()
      .describe('interpreter put first on the trainer PATH; defaults to the project venv'),
    prices: z
      .object({
        gpuHour: z.number().min(0).default(2).describe('price of one GPU-hour, for the factory report'),
        cpuHour: z.number().min(0).default(0.05).describe('price of one CPU-hour (training on CPU workers)'),
        currency: z.string().min(1).default('USD'),
        byTaskQueue: z
          .record(
            z.string().min(1),
            z.object({ gpuHour: z.number().min(0).optional(), cpuHour: z.number().min(0).optional() }).strict(),
          )
          .default({})
          .describe(
            'prices of one worker pool, by the task queue training ran on (e.g. "ct-gpu"); unset: the defaults',
          ),
      })
      .strict()
      .default({ gpuHour: 2, cpuHour: 0.05, currency: 'USD', byTaskQueue: {} }),
    datasetCacheMiB: z
      .number()
      .int()
      .min(0)
      .default(128)
      .describe(
        'memory a worker keeps dataset files in from validation to split preparation, so a run reads its data once; 0: off',
      ),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    audit: z
      .object({
        bucket: z
          .string()
          .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name')
          .optional()
          .describe('defaults to "<s3.bucket>-audit"'),
        retentionDays: z.number().int().min(1).default(365).describe('Object Lock retention of every audit record'),
        mode: z
          .enum(['GOVERNANCE', 'COMPLIANCE'])
          .default('COMPLIANCE')
          .describe('COMPLIANCE: nobody, not even root, can delete a record before retention ends'),
      })
      .strict()
      .default({ retentionDays: 365, mode: 'COMPLIANCE' }),
    identity: IdentityConfig,
    ray: z
      .object({
        address: z.url().describe("the Ray cluster's dashboard (Jobs API), e.g. http://raycluster-head-svc:8265"),
        python: z
          .string()
          .min(1)
          .default('python3')
          .describe("the cluster's Python (with PyTorch and Ray) that runs ct_trainer.ray_job"),
      })
      .strict()
      .optional()
      .describe('the Ray cluster of models whose trainer.backend is ray'),
    approvalSecret: z
      .string()
      .min(16, 'use at least 16 characters')
      .optional()
      .describe('HMAC secret of signed approval tokens'),
    gpusPerJob: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('GPUs given to each training on a GPU worker; slots = GPUs / gpusPerJob'),
    workflowCache: WorkflowCacheConfig.default({ maxCachedWorkflows: DEFAULT_MAX_CACHED_WORKFLOWS }),
    webhook: z
      .object({
        secret: z
          .string()
          .min(16, 'use at least 16 characters')
          .optional()
          .describe('HMAC-SHA256 secret that signs drift alerts (timestamp and body)'),
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8787),
        toleranceSeconds: z
          .number()
          .int()
          .min(1)
          .max(86_400)
          .default(DEFAULT_TOLERANCE_SECONDS)
          .describe('how far a signed timestamp may be from now, in seconds; older requests are refused as replays'),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8787, toleranceSeconds: DEFAULT_TOLERANCE_SECONDS }),
    notifications: z
      .object({
        secret: z
          .string()
          .min(16, 'use at least 16 characters')
          .optional()
          .describe(
            'HMAC-SHA256 secret that signs notification webhooks (X-CT-Signature, as drift alerts); unset: sent unsigned, with a warning',
          ),
      })
      .strict()
      .default({}),
    metrics: MetricsConfig.default({ host: '127.0.0.1' }),
    codec: CodecConfig.default({ mode: 'encrypt', keys: [], server: { host: '127.0.0.1', port: 8234 } }),
  })
  .strict();
export type AppConfig = z.infer<typeof AppConfig>;
export type AppConfigInput = z.input<typeof AppConfig>;

/** Environment variables and the config field each one sets. */
export const ENV_VARS: Record<string, string> = {
  CT_TEMPORAL_ADDRESS: 'temporal.address',
  CT_TEMPORAL_NAMESPACE: 'temporal.namespace',
  CT_TEMPORAL_PROFILE: 'temporal.profile',
  CT_S3_ENDPOINT: 's3.endpoint',
  CT_S3_REGION: 's3.region',
  CT_S3_BUCKET: 's3.bucket',
  CT_S3_ACCESS_KEY_ID: 's3.accessKeyId',
  CT_S3_SECRET_ACCESS_KEY: 's3.secretAccessKey',
  CT_S3_FORCE_PATH_STYLE: 's3.forcePathStyle',
  CT_TASK_QUEUE: 'taskQueue',
  CT_DEPLOYMENT_NAME: 'deployment.name',
  CT_BUILD_ID: 'deployment.buildId',
  CT_WORK_DIR: 'workDir',
  CT_PYTHON: 'python',
  CT_LOG_LEVEL: 'logLevel',
  CT_GPUS_PER_JOB: 'gpusPerJob',
  CT_RAY_ADDRESS: 'ray.address',
  CT_DATASET_CACHE_MIB: 'datasetCacheMiB',
  CT_PRICE_GPU_HOUR: 'prices.gpuHour',
  CT_PRICE_CPU_HOUR: 'prices.cpuHour',
  CT_PRICE_CURRENCY: 'prices.currency',
  CT_AUDIT_BUCKET: 'audit.bucket',
  CT_APPROVAL_SECRET: 'approvalSecret',
  CT_IDENTITY_MODE: 'identity.mode',
  CT_OIDC_ISSUER: 'identity.oidc.issuer',
  CT_OIDC_CLIENT_ID: 'identity.oidc.clientId',
  CT_OIDC_AUDIENCE: 'identity.oidc.audience',
  CT_OIDC_ROLES_CLAIM: 'identity.oidc.rolesClaim',
  CT_WEBHOOK_SECRET: 'webhook.secret',
  CT_WEBHOOK_HOST: 'webhook.host',
  CT_WEBHOOK_PORT: 'webhook.port',
  CT_WEBHOOK_TOLERANCE_SECONDS: 'webhook.toleranceSeconds',
  CT_NOTIFY_SECRET: 'notifications.secret',
  CT_AUDIT_RETENTION_DAYS: 'audit.retentionDays',
  CT_MAX_CACHED_WORKFLOWS: 'workflowCache.maxCachedWorkflows',
  CT_METRICS_HOST: 'metrics.host',
  CT_METRICS_PORT: 'metrics.port',
  CT_CODEC_MODE: 'codec.mode',
  CT_CODEC_KEYS: 'codec.keys',
  CT_CODEC_UI_ORIGIN: 'codec.uiOrigin',
  CT_CODEC_HOST: 'codec.server.host',
  CT_CODEC_PORT: 'codec.server.port',
};

function setPath(target: Record<string, unknown>, path: string, value: unknown) {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = (typeof next === 'object' && next !== null ? next : (node[part] = {})) as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Environment values are strings; booleans and integers are converted when they spell one, else left for zod to reject. */
function coerce(path: string, raw: string): unknown {
  if (path === 's3.forcePathStyle' && (raw === 'true' || raw === 'false')) return raw === 'true';
  if (path === 'codec.keys') return parseCodecKeysEnv(raw);
  const integers = [
    'gpusPerJob',
    'datasetCacheMiB',
    'audit.retentionDays',
    'webhook.port',
    'webhook.toleranceSeconds',
    'metrics.port',
    'codec.server.port',
    'workflowCache.maxCachedWorkflows',
  ];
  if (integers.includes(path) && /^\d+$/.test(raw)) return Number(raw);
  if (['prices.gpuHour', 'prices.cpuHour'].includes(path) && /^\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

/**
 * CT_CODEC_KEYS: `<id>=<base64 key>` entries separated by commas, oldest first; a retired key is written
 * `!<id>=<base64 key>`. A malformed entry is named by its position, never echoed (it may hold a key); the ids and
 * keys themselves are checked by {@link CodecKey}.
 */
export function parseCodecKeysEnv(raw: string): { id: string; key: string; retired: boolean }[] {
  return raw.split(',').map((entry, i) => {
    const trimmed = entry.trim();
    const at = trimmed.indexOf('=');
    if (at <= 0 || at === trimmed.length - 1)
      throw new InvalidInputError('CT_CODEC_KEYS (codec.keys)', [
        `codec.keys[${i}]: entry ${i + 1} of CT_CODEC_KEYS is not <id>=<base64 of 32 bytes> (or !<id>=… for a retired key), entries separated by ","`,
      ]);
    const retired = trimmed.startsWith('!');
    return { id: trimmed.slice(retired ? 1 : 0, at), key: trimmed.slice(at + 1), retired };
  });
}

/** Overlays the environment on a config file's content (pure: both are passed in). */
export function mergeEnv(
  fileContent: Record<string, unknown>,
  env: Record<string, string | undefined>,
): Record<string, unknown> {
  const merged = structuredClone(fileContent);
  for (const [name, path] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(merged, path, coerce(path, raw));
  }
  return merged;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
function loopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOSTS.has(host.toLowerCase());
}

/** Whether this configuration points only at servers on this machine (the local stack): Temporal and S3 on
 * loopback. Anything else is a shared deployment, where self-declared identities and plaintext payloads are
 * not acceptable defaults. */
export function pointsAtLocalStack(config: AppConfig): boolean {
  const temporalHost = config.temporal.address?.replace(/:\d+$/, '');
  const s3Host = config.s3.endpoint === undefined ? undefined : new URL(config.s3.endpoint).hostname;
  return loopbackHost(temporalHost) && loopbackHost(s3Host);
}

export type IdentityMode = 'dev' | 'oidc';

/** The identity mode this configuration runs in, or why it may not run: dev outside the local stack, or oidc
 * without an issuer. */
export function identityMode(config: AppConfig): IdentityMode {
  const local = pointsAtLocalStack(config);
  const mode = config.identity.mode ?? (local ? 'dev' : 'oidc');
  if (mode === 'dev' && !local)
    throw new InvalidInputError('identity.mode', [
      'dev (self-declared names) is allowed only against the local stack; use oidc (CT_OIDC_ISSUER)',
    ]);
  if (mode === 'oidc' && !config.identity.oidc)
    throw new InvalidInputError('identity.oidc.issuer', [
      'identity mode oidc needs the OpenID Connect issuer (identity.oidc.issuer or CT_OIDC_ISSUER)',
    ]);
  return mode;
}
