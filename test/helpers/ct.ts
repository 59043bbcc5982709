// Runs the `ct` command as a user would: a separate process, asynchronously, so workers running in the test
// process keep working while it waits.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { AppConfig } from '../../core/appConfig';
import { projectRoot } from '../../stack/paths';
import { codecKeysEnv } from './codec';

export const CT = path.join(projectRoot, 'bin', 'ct.js');

export interface CtProcess {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Resolves when the process has exited. */
  done: Promise<{ status: number | null; stdout: string; stderr: string }>;
}

/** Starts `ct` and returns at once: its output can be read while it runs (ct status --watch, ct retrain --wait). */
export function spawnCt(args: string[], env: NodeJS.ProcessEnv, cwd = projectRoot): CtProcess {
  const child = spawn(process.execPath, [CT, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
  return { child, stdout: () => stdout, done };
}

export function runCt(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd = projectRoot,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return spawnCt(args, env, cwd).done;
}

/** The environment that points `ct` at one test tenant (its bucket, task queue and Temporal server). */
export function ctEnv(config: AppConfig): NodeJS.ProcessEnv {
  const s3 = config.s3;
  return {
    ...process.env,
    CT_TEMPORAL_ADDRESS: config.temporal.address,
    CT_S3_ENDPOINT: s3.endpoint,
    CT_S3_BUCKET: s3.bucket,
    CT_S3_ACCESS_KEY_ID: s3.accessKeyId,
    CT_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    CT_S3_FORCE_PATH_STYLE: 'true',
    CT_TASK_QUEUE: config.taskQueue,
    CT_CODEC_KEYS: codecKeysEnv(config.codec.keys),
  };
}
