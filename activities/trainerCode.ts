// The digest of a trainer's code for the run fingerprint: a changed trainer file means a different experiment.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const SKIPPED = (name: string) => name.startsWith('.') || name === '__pycache__' || name.endsWith('.pyc');

async function kind(p: string): Promise<'file' | 'dir' | null> {
  const s = await stat(p).catch(() => null);
  return s?.isFile() ? 'file' : s?.isDirectory() ? 'dir' : null;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && !SKIPPED(e.name) && !path.relative(dir, e.parentPath).split(path.sep).some(SKIPPED))
    .map((e) => path.join(e.parentPath, e.name));
}

/**
 * `sha256:<hex>` over the trainer's files: the folder of every command argument that is a file (relative to
 * `cwd`, as the trainer is started), and the trainer SDK (`ct_trainer`) beside such a folder. Null when the command
 * names no file (a binary on PATH, an image): then only `trainer.codeVersion` can say which code it is.
 */
export async function trainerCodeDigest(command: string[], cwd: string): Promise<string | null> {
  const roots = new Set<string>();
  for (const arg of command) {
    const file = path.resolve(cwd, arg);
    if ((await kind(file)) !== 'file') continue;
    roots.add(path.dirname(file));
    const sdk = path.join(path.dirname(path.dirname(file)), 'ct_trainer');
    if ((await kind(sdk)) === 'dir') roots.add(sdk);
  }
  if (roots.size === 0) return null;
  const files = [...new Set((await Promise.all([...roots].map(filesUnder))).flat())].sort();
  const hash = createHash('sha256');
  for (const f of files) {
    const content = createHash('sha256')
      .update(await readFile(f))
      .digest('hex');
    hash.update(`${path.relative(cwd, f)}\0${content}\n`);
  }
  return `sha256:${hash.digest('hex')}`;
}
