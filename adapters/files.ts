// Local file helpers shared by the activities that stage files for a trainer.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Whether `file` (resolved against the current directory) lies inside folder `dir`, not at or above it. */
export function isInside(dir: string, file: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

export async function freshDir(dir: string): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/** PATH with the project's Python first, so a trainer command of `python3 …` finds PyTorch. */
// The trainer needs no credentials: the activity moves its files, so secrets stay out of its environment.
const SECRET_ENV = /^(CT_S3_|AWS_|TEMPORAL_API_KEY|TEMPORAL_TLS)/;

export function trainerEnv(pythonBinDir: string | undefined, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SECRET_ENV.test(k)));
  const PATH = pythonBinDir ? `${pythonBinDir}:${process.env.PATH ?? ''}` : process.env.PATH;
  return { ...env, PATH, PYTHONUNBUFFERED: '1', ...extra };
}
