// Waiting out an object-store outage inside an activity, where redoing the work would cost more than waiting
// (a finished model, a checkpoint, an attempt record).
import { setTimeout as sleep } from 'node:timers/promises';
import { ObjectStoreUnavailableError } from './objectStore';

export interface OutageRetry {
  /** Give up (rethrow the outage) once this time (epoch ms) has passed; at least one try is always made. */
  until: number;
  signal?: AbortSignal;
  /** Called before each wait, with the outage and how long the wait is. */
  onRetry?: (err: ObjectStoreUnavailableError, delayMs: number) => void;
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 5_000;

/** Delay before retry number `retry` (0-based): doubling from 0.5 s, at most 5 s. */
export function outageDelayMs(retry: number): number {
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** retry);
}

/** Runs `fn` again, with backoff, while it fails with ObjectStoreUnavailableError; any other error goes through. */
export async function retryWhileUnavailable<T>(fn: () => Promise<T>, opts: OutageRetry): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await fn();
    } catch (err) {
      const delayMs = outageDelayMs(retry);
      const giveUp = Date.now() + delayMs > opts.until || opts.signal?.aborted;
      if (!(err instanceof ObjectStoreUnavailableError) || giveUp) throw err;
      opts.onRetry?.(err, delayMs);
      await sleep(delayMs, undefined, { signal: opts.signal }).catch(() => undefined);
    }
  }
}
