// The upload queue's promise to the attempt: once flush() returns, every checkpoint queued is in S3 and recorded
// (onStored has run), so the attempt's record names its newest stored checkpoint.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import pino from 'pino';
import { CheckpointUploads } from '../../adapters/checkpointUploads';
import type { CheckpointStore } from '../../adapters/checkpointStore';

describe('checkpoint uploads', () => {
  it('flush returns only after the newest checkpoint is recorded, not merely uploaded', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-uploads-'));
    try {
      // A store that takes the bytes at once (the S3 side has its own tests); what is under test is the queue.
      const store = {
        upload: (file: string) => Promise.resolve({ key: path.basename(file), sha256: 'x', bytes: 1 }),
        prune: () => Promise.resolve([]),
      } as unknown as CheckpointStore;
      const recorded: number[] = [];
      const uploads = new CheckpointUploads(store, {
        maxPending: 3,
        keep: 3,
        log: pino({ level: 'silent' }),
        onStored: async (stored) => {
          await sleep(400); // a heartbeat push behind a busy event loop
          recorded.push(stored.step);
          return stored.key;
        },
      });
      for (const step of [5, 10]) {
        const file = path.join(dir, `step-${step}.pt`);
        await writeFile(file, 'weights');
        uploads.add(file, step);
      }
      await uploads.flush(Date.now() + 10_000);
      assert.deepEqual(recorded, [5, 10]);
      assert.equal(uploads.pending, 0);
      uploads.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a burst past maxPending with the store up drops superseded checkpoints, newest kept, without an outage warning', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-uploads-'));
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const store = {
        upload: async (file: string) => {
          await held; // the first upload is slow: the burst queues up behind it
          return { key: path.basename(file), sha256: 'x', bytes: 1 };
        },
        prune: () => Promise.resolve([]),
      } as unknown as CheckpointStore;
      type Line = { level: number; msg: string; step?: number };
      const lines: Line[] = [];
      const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Line) });
      const recorded: number[] = [];
      const uploads = new CheckpointUploads(store, {
        maxPending: 2,
        keep: 3,
        log,
        onStored: (stored) => {
          recorded.push(stored.step);
          return Promise.resolve(stored.key);
        },
      });
      for (const step of [5, 10, 15, 20]) {
        const file = path.join(dir, `step-${step}.pt`);
        await writeFile(file, 'weights');
        uploads.add(file, step);
      }
      release();
      await uploads.flush(Date.now() + 10_000);
      assert.deepEqual(recorded, [5, 20], 'the one in flight and the newest');
      const dropped = lines.filter((l) => /dropping/.test(l.msg));
      assert.deepEqual(
        dropped.map((l) => [l.level, l.msg, l.step]),
        [
          [30, 'uploads behind: dropping a superseded checkpoint', 10],
          [30, 'uploads behind: dropping a superseded checkpoint', 15],
        ],
      );
      uploads.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
