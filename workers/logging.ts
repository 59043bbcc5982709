// pino for everything, including the Temporal Runtime (core, workflow and activity logs), with secrets redacted.
import { Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger as TemporalLogger } from '@temporalio/common';
import pino, { type Logger } from 'pino';
import type { MetricsConfig } from '../core/appConfig';
import { ctHistogramBuckets } from '../core/ctMetrics';

const REDACT = [
  'secretAccessKey',
  '*.secretAccessKey',
  '*.*.secretAccessKey',
  'accessKeyId',
  '*.accessKeyId',
  '*.*.accessKeyId',
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  'approvalSecret',
  '*.approvalSecret',
  'secret',
  '*.secret',
  'signature',
  '*.signature',
  'headers["x-ct-signature"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } }, destination);
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Adapts pino to Temporal's Logger interface; metadata (workflowId, runId, activityType, …) becomes fields. */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly pino: Logger) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.pino[LEVELS[level]]({ ...meta }, message);
  }
  trace(message: string, meta?: LogMetadata) {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata) {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata) {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata) {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata) {
    this.log('ERROR', message, meta);
  }
}

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

/** Where the metrics of this process are served, or null. */
export function metricsUrl(metrics: MetricsConfig): string | null {
  return metrics.port ? `http://${hostPort(metrics.host, metrics.port)}/metrics` : null;
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
