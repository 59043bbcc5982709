// The retry policy of control-plane activities (S3, registry, audit, Temporal calls): outages are retried with
// backoff, then the failure names what was unreachable.
export const controlRetry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
};
