// The Temporal Runtime of a worker process: its logs through pino, its metrics served for Prometheus.
import { Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { MetricsConfig } from '../core/appConfig';
import { ctHistogramBuckets } from '../core/ctMetrics';
import { hostPort, PinoTemporalLogger } from './logging';

let installed = false;
/**
 * Installs the Temporal Runtime with our logger once per process (the SDK allows one install). With a metrics
 * port, core serves Prometheus metrics at http://<host>:<port>/metrics: the SDK's temporal_* and our ct_*
 * (core/ctMetrics.ts). A port already in use fails here, naming it.
 */
export function installRuntimeLogger(logger: Logger, metrics?: MetricsConfig): void {
  if (installed) return;
  const bindAddress = metrics?.port ? hostPort(metrics.host, metrics.port) : null;
  try {
    Runtime.install({
      logger: new PinoTemporalLogger(logger.child({ component: 'temporal' })),
      ...(bindAddress
        ? {
            telemetryOptions: {
              metrics: { prometheus: { bindAddress, histogramBucketOverrides: ctHistogramBuckets() } },
            },
          }
        : {}),
    });
  } catch (err) {
    if (!bindAddress) throw err;
    const message = (err as Error).message;
    if (/address already in use|os error 98/i.test(message))
      throw new Error(`metrics port ${metrics!.port} on ${metrics!.host} is already in use (CT_METRICS_PORT)`, {
        cause: err,
      });
    throw new Error(`cannot serve metrics on ${bindAddress}: ${message}`, { cause: err });
  }
  installed = true;
}
