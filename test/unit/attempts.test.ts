// The record an attempt gets when its worker vanished: reconstructed from its last heartbeat, with the real numbers
// the heartbeat carries, and marked so it never replaces a record its own attempt wrote.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttemptRecord, reconstructedAttempt, TrainingHeartbeat } from '../../core/attempts';
import { attemptSlot } from '../../core/gpuIdle';

const beat = {
  attempt: 2,
  step: 340,
  totalSteps: 1000,
  epoch: 1,
  loss: 0.4,
  samplesPerSec: 900,
  checkpointKey: 'runs/m/r/checkpoints/step-00000300.pt',
  checkpointSha256: 'ab',
  device: 'cpu',
  gpus: [],
  attemptStartedAt: '2026-11-22T10:00:00.000Z',
  updatedAt: '2026-11-22T10:01:30.000Z',
  resumedFromStep: 200,
  resumedFrom: 'runs/m/r/checkpoints/step-00000200.pt',
  samplesProcessed: 174_080,
  storeUnavailableSince: '2026-11-22T10:01:00.000Z',
};

describe('attempt records', () => {
  it('a lost attempt is reconstructed from its last heartbeat with its real steps and samples', () => {
    const record = AttemptRecord.parse(reconstructedAttempt(beat));
    assert.equal(record.outcome, 'lost');
    assert.equal(record.reconstructed, true);
    assert.equal(record.wallSeconds, 90);
    assert.deepEqual([record.resumedFromStep, record.lastStep, record.samplesProcessed], [200, 340, 174_080]);
    assert.equal(record.resumedFrom, beat.resumedFrom);
    assert.match(
      record.message,
      /last heartbeat at 2026-11-22T10:01:30.000Z; the object store was unreachable since 2026-11-22T10:01:00/,
    );
  });

  it('heartbeat details without records owed read as owing none; records older than the flag are real', () => {
    assert.deepEqual(TrainingHeartbeat.parse(beat).unrecorded, []);
    const old = { ...reconstructedAttempt(beat), reconstructed: undefined };
    assert.equal(AttemptRecord.parse(old).reconstructed, false);
  });

  it('a lost attempt keeps the slot its heartbeat named; records written before slots fall back to GPUs or device', () => {
    assert.equal(reconstructedAttempt({ ...beat, slot: 'host-a/cpu' }).slot, 'host-a/cpu');
    const old = AttemptRecord.parse(reconstructedAttempt(beat));
    assert.equal(old.slot, undefined);
    assert.equal(attemptSlot(old), 'cpu');
    assert.equal(attemptSlot({ ...old, gpus: ['1', '0'] }), 'gpu0,1');
  });
});
