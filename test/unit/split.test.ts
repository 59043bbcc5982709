import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleIndices, timeAwareSplit } from '../../core/split';

describe('time-aware split', () => {
  const times = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000); // a shuffled 0..999

  it('holds out the newest rows and keeps every sampled row exactly once', () => {
    const s = timeAwareSplit(times, { seed: 1, validationFraction: 0.1, holdoutFraction: 0.2 });
    assert.deepEqual([s.train.length, s.validation.length, s.holdout.length], [700, 100, 200]);
    const maxTrain = Math.max(...s.train.map((r) => times[r]!));
    const minHoldout = Math.min(...s.holdout.map((r) => times[r]!));
    assert.ok(maxTrain < minHoldout, 'no training row is newer than a holdout row');
    assert.equal(new Set([...s.train, ...s.validation, ...s.holdout]).size, 1000);
  });

  it('samples deterministically by seed', () => {
    assert.deepEqual(sampleIndices(100, 10, 7), sampleIndices(100, 10, 7));
    assert.notDeepEqual(sampleIndices(100, 10, 7), sampleIndices(100, 10, 8));
    assert.equal(new Set(sampleIndices(100, 10, 7)).size, 10);
    assert.equal(sampleIndices(5, 10, 1).length, 5);
  });
});
