// `ct codec-server`: the Temporal Web UI's remote codec endpoint (POST /encode, POST /decode, core/codecProtocol),
// so the UI shows decrypted payloads while the server keeps only ciphertext. CORS admits the UI's origin only; every
// request passes an injected authenticator first. Logs name method, path, status and payload count, never contents.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Logger } from 'pino';
import { CODEC_PATHS, type CodecPayload, CodecPayloads } from '../core/codecProtocol';
import { InvalidInputError, parseOrThrow } from '../core/parse';
import { PayloadDecryptionError } from '../adapters/payloadCodec';
import { HttpError, readBody, sendJson } from '../triggers/http';

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const ALLOWED_HEADERS = 'X-Namespace, Content-Type, Authorization';

/** Admits a request or throws an HttpError with 401 or 403 (the dev one below; an OIDC bearer check plugs in here). */
export type Authenticator = (req: IncomingMessage) => Promise<void>;

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** For the local stack: only callers on this machine, and only pages of the Web UI's origin. */
export function devAuthenticator(uiOrigin: string): Authenticator {
  return (req) => {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? ''))
      return Promise.reject(new HttpError(403, 'the dev codec server answers callers on this machine only'));
    if (req.headers.origin !== uiOrigin)
      return Promise.reject(new HttpError(403, `Origin must be the Web UI's (${uiOrigin})`));
    return Promise.resolve();
  };
}

/** Where identities are verified: the caller's OIDC bearer token (the Web UI passes its access token with the
 * codec setting "pass access token"), verified like any other (issuer, audience, expiry), and the UI's Origin. */
export function bearerAuthenticator(
  uiOrigin: string,
  verify: (token: string) => Promise<{ ok: true } | { ok: false; reason: string }>,
): Authenticator {
  return async (req) => {
    if (req.headers.origin !== uiOrigin) throw new HttpError(403, `Origin must be the Web UI's (${uiOrigin})`);
    const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) throw new HttpError(401, 'an OpenID Connect bearer token is required (Authorization: Bearer …)');
    const check = await verify(token);
    if (!check.ok) throw new HttpError(401, check.reason);
  };
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The Web UI's origin, e.g. http://127.0.0.1:8233: the only one CORS admits. */
  uiOrigin: string;
  authenticate: Authenticator;
  logger: Logger;
  host?: string;
  port?: number;
}

const fromJson = (p: CodecPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  ...(p.data === undefined ? {} : { data: Buffer.from(p.data, 'base64') }),
});
const toJson = (p: Payload): CodecPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  ...(p.data ? { data: Buffer.from(p.data).toString('base64') } : {}),
});

function parseBody(body: Buffer): CodecPayloads {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `body is not JSON: ${(err as Error).message}`);
  }
  return parseOrThrow(CodecPayloads, json, 'codec request body');
}

export async function startCodecServer(
  options: CodecServerOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const { codec, uiOrigin, authenticate } = options;
  const log = options.logger.child({ component: 'codec-server' });
  const cors = { 'access-control-allow-origin': uiOrigin, vary: 'Origin' };

  async function handle(req: IncomingMessage): Promise<{ status: number; body?: CodecPayloads; count?: number }> {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== uiOrigin) throw new HttpError(403, `origin ${origin} is not allowed`);
    if (req.method === 'OPTIONS') return { status: 204 };
    await authenticate(req);
    const op = CODEC_PATHS[(req.url ?? '').split('?')[0] as keyof typeof CODEC_PATHS];
    if (!op) throw new HttpError(404, 'no such endpoint: POST /encode or POST /decode');
    if (req.method !== 'POST') throw new HttpError(405, `use POST ${req.url}`);
    const { payloads } = parseBody(await readBody(req, MAX_BODY_BYTES));
    const result = await codec[op](payloads.map(fromJson));
    return { status: 200, body: { payloads: result.map(toJson) }, count: payloads.length };
  }

  function reply(req: IncomingMessage, res: ServerResponse) {
    const allowed = req.headers.origin === uiOrigin ? cors : {};
    const done = (status: number, count?: number, error?: string) =>
      log.info({ method: req.method, path: req.url, status, payloads: count, error }, 'codec request');
    handle(req)
      .then(({ status, body, count }) => {
        if (status === 204) {
          res.writeHead(204, {
            ...allowed,
            'access-control-allow-methods': 'POST, OPTIONS',
            'access-control-allow-headers': ALLOWED_HEADERS,
            'access-control-max-age': '600',
          });
          res.end();
        } else sendJson(res, status, body, allowed);
        done(status, count);
      })
      .catch((err: unknown) => {
        const status =
          err instanceof HttpError
            ? err.status
            : err instanceof InvalidInputError || err instanceof PayloadDecryptionError
              ? 400
              : 500;
        const message = status === 500 ? 'codec failed; see the codec server log' : (err as Error).message;
        if (status === 500) log.error({ err: (err as Error).name }, 'codec failed');
        sendJson(res, status, { error: message }, allowed);
        done(status, undefined, message);
      });
  }

  const server = createServer(reply);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8234, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  log.info({ url, uiOrigin }, 'codec server listening');
  return { server, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
