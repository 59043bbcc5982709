// runTrainer's CPU accounting: a trainer's CPU time must be counted even when its events are handled after it
// exited (a backlogged heartbeat), since /proc forgets a process once it is reaped.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runTrainer } from '../../adapters/trainerProcess';

const BURN_THEN_CRASH = `
import json, sys, time
t = time.process_time()
while time.process_time() - t < 1.0:
    pass
print(json.dumps({"event": "progress", "step": 1, "epoch": 0, "loss": 1.0, "samplesPerSec": 1.0}), flush=True)
sys.exit(3)
`;

describe('runTrainer', () => {
  it('counts the CPU time of a trainer that crashed before its events were handled', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-trainer-'));
    try {
      const handled: number[] = [];
      const run = await runTrainer({
        command: ['python3', '-c', BURN_THEN_CRASH],
        mode: 'train',
        configFile: path.join(dir, 'config.json'),
        cwd: dir,
        env: process.env,
        onEvent: async (e) => {
          await new Promise((r) => setTimeout(r, 1500)); // the heartbeat this event waits on is slow
          if (e.event === 'progress') handled.push(e.step);
        },
      });
      assert.equal(run.exitCode, 3);
      assert.deepEqual(handled, [1], 'its one event was still handled, after it exited');
      assert.ok(run.cpuSeconds >= 0.8, `CPU-seconds counted: ${run.cpuSeconds}`);
      assert.ok(run.cpuSeconds < 5, `and no more than it used: ${run.cpuSeconds}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
