// When `ct dev` restarts a child that died: after an exponentially growing delay (1 s, 2 s, 4 s … capped), and
// not at all once it has died more than `maxRestarts` times within the window: a child that cannot stay up is
// reported and everything stops, instead of a restart loop nobody notices.

export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Restarts allowed within the window; 0 stops everything at the first death. */
  maxRestarts: number;
  windowMs: number;
}

export const DEV_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRestarts: 5,
  windowMs: 10 * 60_000,
};

export type RestartDecision =
  | { action: 'restart'; delayMs: number; /** 1 for the first restart within the window */ restart: number }
  | { action: 'give-up'; deaths: number };

/** What to do about a death at `now`, given the times of the earlier deaths of the same child. */
export function afterDeath(earlierDeaths: readonly number[], now: number, policy: RestartPolicy): RestartDecision {
  const deaths = earlierDeaths.filter((t) => now - t < policy.windowMs).length + 1;
  if (deaths > policy.maxRestarts) return { action: 'give-up', deaths };
  const delayMs = Math.min(policy.initialDelayMs * 2 ** (deaths - 1), policy.maxDelayMs);
  return { action: 'restart', delayMs, restart: deaths };
}

/** "10 min", "30 s": the window in words for messages. */
export function formatWindow(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}
