// The server pushes back on bursts — its rate limits (RESOURCE_EXHAUSTED), the cap on in-flight Updates per workflow
// (RESOURCE_EXHAUSTED, ABORTED), a busy frontend (UNAVAILABLE) — for instance when 1,000 supervisors start at once.
// Such a call is retried with jittered exponential backoff, each retry reported, and never dropped for it. So is a
// busy worker's: an Update that timed out waiting for the workflow (DEADLINE_EXCEEDED) or that found its workflow
// task failing for the moment (FAILED_PRECONDITION, "Workflow Task in failed state", which update-with-start reports
// as "could not be executed"). Every call retried here carries one Update id over its attempts, so a retry of a
// delivered message returns its first answer.

/** gRPC codes of pushback: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, UNAVAILABLE. */
const PUSHBACK = new Set([4, 8, 10, 14]);
/** FAILED_PRECONDITION is pushback only when it says the workflow task is failing (it retries by itself). */
const FAILED_PRECONDITION = 9;
const TASK_FAILING = /Workflow Task in failed state|Update-with-Start could not be executed/i;
const MAX_ATTEMPTS = 60;
const MAX_DELAY_MS = 2_000;

/** One retry of a call the server pushed back on. */
export interface PushbackRetry {
  /** What was sent (`drift alert a-1`, `retrain request for m`). */
  what: string;
  /** The attempt that was pushed back (1 = the first). */
  attempt: number;
  /** The gRPC status code (8 = RESOURCE_EXHAUSTED). */
  code: number;
  message: string;
  /** How long until the next attempt. */
  delayMs: number;
}

/** The pushback code of `err` or of one of its causes, else null. */
export function pushbackCode(err: unknown): number | null {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'number' && PUSHBACK.has(e.code)) return e.code;
    if (e.code === FAILED_PRECONDITION && TASK_FAILING.test(String(e.message))) return FAILED_PRECONDITION;
  }
  return null;
}

/** Backoff before attempt `attempt + 1`: 100 ms doubling, capped at 2 s, jittered ±50% (`random` in [0, 1)). */
export function pushbackDelayMs(attempt: number, random: number): number {
  return Math.min(MAX_DELAY_MS, 50 * 2 ** attempt) * (0.5 + random);
}

/**
 * Runs `fn`, retrying pushback up to 60 attempts (about 2 minutes); `onRetry` hears of each retry. Other errors, and
 * pushback past the last attempt, are thrown as they are.
 */
export async function retryPushback<T>(
  what: string,
  fn: () => Promise<T>,
  onRetry: (retry: PushbackRetry) => void = () => {},
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = pushbackCode(err);
      if (code === null || attempt >= MAX_ATTEMPTS) throw err;
      const delayMs = pushbackDelayMs(attempt, Math.random());
      onRetry({ what, attempt, code, message: (err as Error).message, delayMs });
      await sleep(delayMs);
    }
  }
}

/** An `onRetry` that logs each retry as a warning, for a pino-style logger. */
export const logPushback =
  (log: { warn(fields: object, msg: string): void }) =>
  (r: PushbackRetry): void =>
    log.warn(
      { what: r.what, attempt: r.attempt, grpcCode: r.code, delayMs: Math.round(r.delayMs), error: r.message },
      'the server pushed back: retrying with backoff',
    );
