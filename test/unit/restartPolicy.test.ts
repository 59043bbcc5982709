// When `ct dev` restarts a dead child: exponential backoff, capped, and giving up after too many deaths in a window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterDeath, DEV_RESTART_POLICY, formatWindow } from '../../core/restartPolicy';

const policy = DEV_RESTART_POLICY;
const t0 = Date.UTC(2026, 0, 1);

describe('restart policy', () => {
  it('backs off 1 s, 2 s, 4 s, 8 s, 16 s, then gives up at the sixth death within 10 min', () => {
    const deaths: number[] = [];
    const decisions = [];
    for (let i = 0; i < 6; i++) {
      const now = t0 + i * 30_000;
      decisions.push(afterDeath(deaths, now, policy));
      deaths.push(now);
    }
    assert.deepEqual(decisions, [
      { action: 'restart', delayMs: 1_000, restart: 1 },
      { action: 'restart', delayMs: 2_000, restart: 2 },
      { action: 'restart', delayMs: 4_000, restart: 3 },
      { action: 'restart', delayMs: 8_000, restart: 4 },
      { action: 'restart', delayMs: 16_000, restart: 5 },
      { action: 'give-up', deaths: 6 },
    ]);
  });

  it('forgets deaths older than the window, so a child that stays up long enough starts afresh', () => {
    const old = [t0, t0 + 1_000, t0 + 2_000, t0 + 3_000, t0 + 4_000];
    assert.deepEqual(afterDeath(old, t0 + 10 * 60_000 + 2_500, policy), {
      action: 'restart',
      delayMs: 4_000,
      restart: 3,
    });
    assert.deepEqual(afterDeath(old, t0 + 11 * 60_000, policy), { action: 'restart', delayMs: 1_000, restart: 1 });
  });

  it('caps the delay, and with no restarts allowed gives up at the first death', () => {
    const many = { ...policy, maxRestarts: 20 };
    const deaths = Array.from({ length: 9 }, (_, i) => t0 + i);
    assert.deepEqual(afterDeath(deaths, t0 + 10, many), { action: 'restart', delayMs: 30_000, restart: 10 });
    assert.deepEqual(afterDeath([], t0, { ...policy, maxRestarts: 0 }), { action: 'give-up', deaths: 1 });
  });

  it('says the window in words', () => {
    assert.equal(formatWindow(10 * 60_000), '10 min');
    assert.equal(formatWindow(30_000), '30 s');
  });
});
