// Every control activity heartbeats every few seconds while it runs, whatever it does: the server then knows within
// the heartbeat timeout (workflows/retryPolicies.ts) that the worker running it died, and retries it elsewhere.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** Well under the 30 s heartbeat timeout; the SDK sends at most one heartbeat per 80% of the timeout anyway. */
const BEAT_EVERY_MS = 5_000;

export const heartbeatWhileRunning: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      // A local activity has no heartbeats: the workflow task it runs in times out instead.
      if (ctx.info.isLocal) return next(input);
      const beat = setInterval(() => ctx.heartbeat(), BEAT_EVERY_MS);
      try {
        return await next(input);
      } finally {
        clearInterval(beat);
      }
    },
  },
});
