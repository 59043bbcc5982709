// The pure decisions of a training attempt: how a trainer's exit reads as an outcome, which checkpoints to try,
// how long a silent trainer is given, and how long the attempt may wait on the object store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attemptRecord } from '../../core/attempts';
import { attemptProgress } from '../../core/progress';
import { EXIT } from '../../core/trainerProtocol';
import {
  classifyAttempt,
  resumeCandidates,
  silenceLimitMs,
  STARTUP_GRACE_SECONDS,
  storeDeadline,
} from '../../core/trainingAttempt';

const exit = (exitCode: number | null, stderrTail = '', lastError: { message: string } | null = null) => ({
  exitCode,
  lastError,
  stderrTail,
});
const quiet = { finished: false, stalled: false, shuttingDown: false };

describe('attempt outcome', () => {
  it('succeeds only on exit 0 with a done event', () => {
    assert.equal(classifyAttempt(exit(0), { ...quiet, finished: true }, undefined).outcome, 'succeeded');
    assert.equal(classifyAttempt(exit(0), quiet, undefined).outcome, 'crashed');
  });

  it('names a full disk (ENOSPC) in a crash, from Python or Node, and leaves other messages alone', () => {
    const python = classifyAttempt(
      exit(1, '', { message: 'OSError: [Errno 28] No space left on device' }),
      quiet,
      undefined,
    );
    assert.deepEqual(python, {
      outcome: 'crashed',
      message: 'the work directory is full (ENOSPC): OSError: [Errno 28] No space left on device',
    });
    const node = classifyAttempt(exit(1, 'Error: ENOSPC: no space left on device, write'), quiet, undefined);
    assert.match(node.message, /^the work directory is full \(ENOSPC\): Error: ENOSPC/);
    assert.equal(classifyAttempt(exit(1, 'ValueError: bad step'), quiet, undefined).message, 'ValueError: bad step');
  });

  it('puts a stall before a cancellation, and a cancel request before a shutdown', () => {
    const both = { cancelRequested: true, workerShutdown: true };
    assert.equal(classifyAttempt(exit(null), { ...quiet, stalled: true }, both).outcome, 'stalled');
    assert.equal(classifyAttempt(exit(null), quiet, both).outcome, 'cancelled');
    const shutdown = { cancelRequested: false, workerShutdown: true };
    const timedOut = { cancelRequested: false, workerShutdown: false };
    assert.equal(classifyAttempt(exit(null), quiet, shutdown).outcome, 'preempted');
    assert.equal(classifyAttempt(exit(null), quiet, timedOut).outcome, 'stalled');
    assert.equal(classifyAttempt(exit(1), { ...quiet, shuttingDown: true }, undefined).outcome, 'preempted');
  });

  it('maps the protocol exit codes', () => {
    const outcome = (code: number) => classifyAttempt(exit(code), quiet, undefined).outcome;
    assert.equal(outcome(EXIT.preempted), 'preempted');
    assert.equal(outcome(EXIT.configError), 'config-error');
    assert.equal(outcome(EXIT.dataError), 'data-error');
    assert.equal(outcome(EXIT.outOfMemory), 'out-of-memory');
    assert.equal(outcome(1), 'crashed');
  });

  it("says the trainer's last error, else the end of its stderr", () => {
    assert.equal(classifyAttempt(exit(1, 'a\nb', { message: 'boom' }), quiet, undefined).message, 'boom');
    assert.equal(classifyAttempt(exit(1, '1\n2\n3\n4\n5\n6'), quiet, undefined).message, '2\n3\n4\n5\n6');
    assert.equal(classifyAttempt(null, quiet, undefined).message, 'no resume point usable');
  });
});

describe('resume points and timing', () => {
  it('tries checkpoints newest first, the heartbeat one once', () => {
    const stored = ['c/step-00000200.pt', 'c/step-00000100.pt'];
    assert.deepEqual(resumeCandidates('c/step-00000300.pt', stored), ['c/step-00000300.pt', ...stored]);
    assert.deepEqual(resumeCandidates('c/step-00000200.pt', stored), stored);
    assert.deepEqual(resumeCandidates(null, []), []);
  });

  it('gives a starting trainer the startup grace, a running one the heartbeat timeout', () => {
    assert.equal(silenceLimitMs(false, 5), STARTUP_GRACE_SECONDS * 1000);
    assert.equal(silenceLimitMs(true, 5), 5000);
    assert.equal(silenceLimitMs(false, 120), 120_000);
  });

  it('keeps time back from the start-to-close timeout to report the attempt', () => {
    assert.equal(storeDeadline(1000, 3_600_000), 1000 + 3_600_000 - 30_000);
    assert.equal(storeDeadline(0, 60_000), 54_000);
  });
});

describe('attempt record', () => {
  it('counts GPU-seconds on GPUs, the trainer CPU-seconds without', () => {
    const startedAt = new Date('2026-11-22T10:00:00.000Z');
    const endedAt = new Date('2026-11-22T10:00:10.000Z');
    const base = { attempt: 1, startedAt, endedAt, trainerCpuSeconds: 7, resumedFrom: null, skippedCheckpoints: [] };
    const onGpus = attemptProgress(1, null, ['0', '1'], startedAt);
    const gpu = attemptRecord({ ...base, outcome: 'succeeded', message: 'x', progress: onGpus });
    assert.equal(gpu.deviceSeconds, 20);
    assert.equal(gpu.deviceSecondsKind, 'gpu');
    assert.equal(gpu.message, '');
    const onCpu = attemptProgress(1, null, [], startedAt);
    const cpu = attemptRecord({ ...base, outcome: 'crashed', message: 'boom', progress: onCpu });
    assert.equal(cpu.deviceSeconds, 7);
    assert.equal(cpu.message, 'boom');
  });
});
