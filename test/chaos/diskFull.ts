// The work directory full (ENOSPC) while the trainer writes a checkpoint: the worker's workDir is a small tmpfs of
// its own, filled by a ballast file once training is under way. The attempt must fail with an error naming ENOSPC;
// once the ballast is removed, the retry resumes from the last stored checkpoint and the run completes (a full
// disk is usually transient — other jobs' files, a log burst — and the run's work so far is in S3).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { AttemptRecord } from '../../core/attempts';
import { keys } from '../../core/keys';
import { trainingHeartbeat, waitFor } from '../helpers/processes';
import type { Cell } from './cell';
import { MODEL_ID } from './cellStack';
import { chaosModel } from './models';

const TMPFS_SIZE = '16m';

/** Mounts a tmpfs of TMPFS_SIZE on `dir` (we run as root here); the error names why when that is not possible. */
function mountSmallDisk(dir: string): void {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(
      `cannot mount a ${TMPFS_SIZE} tmpfs on ${dir} (needs root or CAP_SYS_ADMIN): ${stderr || (err as Error).message}`,
      { cause: err },
    );
  }
}

/** Appends zeros to `file` until the disk is full; returns the bytes written. */
function fillDisk(file: string): number {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return written;
}

export const diskFullCells: Cell[] = [
  {
    name: 'disk-full/checkpoint-write',
    fault: 'work directory full (ENOSPC)',
    moment: 'checkpoint write',
    async run(ctx) {
      const { stack } = ctx;
      const workDir = stack.config.workDir;
      mountSmallDisk(workDir);
      ctx.defer(() => {
        execFileSync('umount', ['--lazy', workDir]);
      });
      await stack.startWorkers();
      await stack.registerModel(chaosModel({ slow: true }));
      const workflowId = await stack.requestRun('disk-full');
      const handle = stack.client().workflow.getHandle(workflowId);
      const { runId } = await handle.describe();
      const beat = await waitFor('training at step 8 with a stored checkpoint', async () => {
        const b = await trainingHeartbeat(handle);
        return b && b.step >= 8 && b.checkpointKey ? b : null;
      });
      const ballast = path.join(workDir, 'ballast');
      const bytes = fillDisk(ballast);
      ctx.note(
        `${TMPFS_SIZE} tmpfs as workDir filled (${(bytes / 2 ** 20).toFixed(1)} MiB ballast) at step ${beat.step}`,
      );
      // Kept full: whatever the worker frees (an uploaded checkpoint's local file) is taken again at once.
      const keepFull = setInterval(() => fillDisk(ballast), 20);
      const first = await waitFor(
        'the first attempt to fail',
        async () => {
          const stored = await stack.store.getJsonIfExists(keys.attempt(MODEL_ID, runId, 1));
          return stored === undefined ? null : AttemptRecord.parse(stored);
        },
        120_000,
      ).finally(() => clearInterval(keepFull));
      rmSync(ballast);
      ctx.note(`attempt 1 ${first.outcome}: ${first.message.slice(0, 160)}; ballast removed`);
      const result = await stack.runResult(workflowId);
      const list = (await stack.store.list(keys.attempts(MODEL_ID, runId))).sort();
      const records = await Promise.all(list.map(async (k) => AttemptRecord.parse(await stack.store.getJson(k))));
      ctx.note(`attempts ${records.map((r) => `${r.outcome}@${r.resumedFromStep}`).join(' → ')}`);
      const failures: string[] = [];
      if (!/ENOSPC/.test(first.message))
        failures.push(`the failed attempt's error does not name ENOSPC: ${first.message}`);
      if (records.at(-1)?.outcome !== 'succeeded') failures.push('no attempt succeeded after the space was freed');
      else if (records.at(-1)!.resumedFromStep === 0)
        failures.push('the retry restarted from step 0 instead of resuming');
      return { result, expected: { outcomes: ['promoted', 'rejected-by-gate'] }, failures };
    },
  },
];
