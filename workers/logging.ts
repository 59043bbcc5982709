// pino for everything, including the Temporal Runtime (core, workflow and activity logs), with secrets redacted.
import { Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger as TemporalLogger } from '@temporalio/common';
import pino, { type Logger } from 'pino';

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
/** Installs the Temporal Runtime with our logger once per process (the SDK allows one install). */
export function installRuntimeLogger(logger: Logger): void {
  if (installed) return;
  Runtime.install({ logger: new PinoTemporalLogger(logger.child({ component: 'temporal' })) });
  installed = true;
}
