// The retry policy of control-plane activities (S3, registry, audit, Temporal calls): outages are retried with
// backoff, then the failure names what was unreachable.
export const controlRetry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
};

/**
 * Calls that must outlast an object-store outage of a few minutes rather than fail the run or the check (registry
 * writes, drift checks): the same backoff, 10 attempts, ~2.5 minutes in all.
 */
export const outageRetry = { ...controlRetry, maximumAttempts: 10 };

/**
 * Control activities heartbeat while they run (workers/activityHeartbeats.ts), so a control worker killed in the
 * middle of one (kill -9, a lost machine) is noticed within this and the activity retried on another worker,
 * instead of at its start-to-close timeout (up to 30 minutes).
 */
export const controlHeartbeatTimeout = '30 seconds';
