// The drift-alert webhook: POST a DriftAlert as JSON, signed with a timestamp (header
// X-CT-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">, adapters/webhookSignature.ts);
// the alert goes to the model's supervisor by update-with-start.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ObjectStore } from '../adapters/objectStore';
import { SIGNATURE_HEADER, signatureProblem } from '../adapters/webhookSignature';
import { logPushback } from '../client/pushback';
import { reportDrift, SupervisorRefusal } from '../client/supervisor';
import { DriftAlert } from '../core/supervisorMessages';
import { keys } from '../core/keys';
import { InvalidInputError, parseOrThrow } from '../core/parse';
import { DEFAULT_TOLERANCE_SECONDS } from '../core/signatureHeader';
import { HttpError, readBody, sendJson } from './http';

export const ALERTS_PATH = '/v1/drift-alerts';
const MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookOptions {
  client: Client;
  store: ObjectStore;
  secret: string;
  taskQueue: string;
  logger: Logger;
  host?: string;
  port?: number;
  /** How far a signature's timestamp may be from now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** The clock signatures are checked against (tests move it). */
  now?: () => number;
}

export async function startWebhook(
  options: WebhookOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const { client, store, secret, taskQueue, logger } = options;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? Date.now;
  const log = logger.child({ component: 'webhook' });

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    if (req.url === '/healthz' && req.method === 'GET') return { status: 200, body: { ok: true } };
    if (req.url !== ALERTS_PATH) throw new HttpError(404, `no such endpoint: POST ${ALERTS_PATH}`);
    if (req.method !== 'POST') throw new HttpError(405, `use POST ${ALERTS_PATH}`);
    const body = await readBody(req, MAX_BODY_BYTES);
    // Authenticate before looking at the content: an unsigned or stale body is never parsed, let alone acted on.
    const header = req.headers[SIGNATURE_HEADER] as string | undefined;
    const problem = signatureProblem(secret, body, header, now(), tolerance);
    if (problem) throw new HttpError(401, problem);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new HttpError(400, `body is not JSON: ${(err as Error).message}`);
    }
    const alert = parseOrThrow(DriftAlert, json, 'drift alert');
    if (!(await store.exists(keys.registeredConfig(alert.modelId))))
      throw new HttpError(404, `unknown model "${alert.modelId}": register it with \`ct models register\``);
    const ack = await reportDrift(client, alert, { taskQueue, onPushback: logPushback(log) });
    log.info(
      { alertId: alert.alertId, modelId: alert.modelId, action: ack.action, incident: ack.incidentId },
      'drift alert accepted',
    );
    return { status: ack.action === 'duplicate' ? 200 : 202, body: ack };
  }

  const server = createServer((req, res) => {
    handle(req)
      .then(({ status, body }) => sendJson(res, status, body))
      .catch((err: unknown) => {
        const status =
          err instanceof HttpError
            ? err.status
            : err instanceof InvalidInputError
              ? 400
              : err instanceof SupervisorRefusal
                ? 422
                : 503;
        const message =
          status === 503 ? `could not reach the supervisor: ${(err as Error).message}` : (err as Error).message;
        log.warn({ status, path: req.url, error: message }, 'drift alert refused');
        sendJson(res, status, { error: message });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address}:${port}${ALERTS_PATH}`;
  log.info({ url }, 'drift-alert webhook listening');
  return {
    server,
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
