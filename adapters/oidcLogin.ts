// Signing in with OpenID Connect as a CLI does (RFC 8252): authorization code + PKCE, the browser redirected to a
// one-shot loopback listener. The tokens are cached per issuer in a file only the user can read.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { discover } from './oidcVerifier';

export const CachedLogin = z
  .object({
    issuer: z.string(),
    clientId: z.string(),
    idToken: z.string(),
    accessToken: z.string().optional(),
    refreshToken: z.string().optional(),
    /** Expiry of the ID token, ISO. */
    expiresAt: z.string(),
    subject: z.string(),
  })
  .strict();
export type CachedLogin = z.infer<typeof CachedLogin>;

const CredentialsFile = z.record(z.string(), CachedLogin);

/** Where `ct login` keeps its tokens: CT_CREDENTIALS, else $XDG_CONFIG_HOME/ct/credentials.json (mode 0600). */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CT_CREDENTIALS) return path.resolve(env.CT_CREDENTIALS);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'ct', 'credentials.json');
}

function readCredentials(file: string): Record<string, CachedLogin> {
  if (!existsSync(file)) return {};
  const parsed = CredentialsFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new Error(`${file} is not a credentials file written by ct login; remove it and log in again`);
  return parsed.data;
}

const cacheKey = (issuer: string, clientId: string) => `${issuer.replace(/\/$/, '')} ${clientId}`;

/** The cached login for this issuer and client, when one exists and its ID token has not expired. */
export function cachedLogin(issuer: string, clientId: string, now = Date.now(), file = credentialsPath()) {
  const login = readCredentials(file)[cacheKey(issuer, clientId)];
  return login && Date.parse(login.expiresAt) > now ? login : undefined;
}

export function saveLogin(login: CachedLogin, file = credentialsPath()): void {
  const all = { ...readCredentials(file), [cacheKey(login.issuer, login.clientId)]: login };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function forgetLogin(issuer: string, clientId: string, file = credentialsPath()): boolean {
  const all = readCredentials(file);
  const key = cacheKey(issuer, clientId);
  if (!(key in all)) return false;
  delete all[key];
  writeFileSync(file, JSON.stringify(all, null, 2), { mode: 0o600 });
  return true;
}

const base64url = (b: Buffer) => b.toString('base64url');

export interface TokenSet {
  idToken: string;
  accessToken?: string;
  refreshToken?: string;
}

/**
 * The browser sign-in: `onUrl` is told the URL to open; resolves with the tokens once the provider redirects back
 * to the loopback listener (or fails after `timeoutMs`).
 */
export async function signInWithBrowser(opts: {
  issuer: string;
  clientId: string;
  scopes: string[];
  onUrl: (url: string) => void;
  timeoutMs?: number;
}): Promise<TokenSet> {
  const meta = await discover(opts.issuer);
  const verifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(16));
  const nonce = base64url(randomBytes(16));
  let settle!: { resolve: (code: string) => void; reject: (err: Error) => void };
  const codeArrived = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') return void res.writeHead(404).end();
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (url.searchParams.get('state') !== state) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('state does not match this sign-in');
      return settle.reject(new Error('sign-in answered with another state (not this sign-in): refused'));
    }
    if (error || !code) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`sign-in failed: ${error ?? 'no code'}`);
      return settle.reject(
        new Error(`sign-in failed: ${error ?? 'no code'} ${url.searchParams.get('error_description') ?? ''}`.trim()),
      );
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in to ct. You can close this window.');
    settle.resolve(code);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  const timer = setTimeout(
    () => settle.reject(new Error(`no sign-in within ${(opts.timeoutMs ?? 300_000) / 1000} s`)),
    opts.timeoutMs ?? 300_000,
  );
  try {
    const auth = new URL(meta.authorization_endpoint);
    auth.search = new URLSearchParams({
      response_type: 'code',
      client_id: opts.clientId,
      redirect_uri: redirectUri,
      scope: opts.scopes.join(' '),
      state,
      nonce,
      code_challenge: base64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
    }).toString();
    opts.onUrl(auth.toString());
    const code = await codeArrived;
    const res = await fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: opts.clientId,
        code_verifier: verifier,
      }),
    });
    const body = (await res.json()) as {
      id_token?: unknown;
      access_token?: unknown;
      refresh_token?: unknown;
      error?: string;
      error_description?: string;
    };
    if (!res.ok || typeof body.id_token !== 'string')
      throw new Error(
        `the provider refused the code: ${body.error ?? `HTTP ${res.status}`} ${body.error_description ?? ''}`,
      );
    return {
      idToken: body.id_token,
      ...(typeof body.access_token === 'string' ? { accessToken: body.access_token } : {}),
      ...(typeof body.refresh_token === 'string' ? { refreshToken: body.refresh_token } : {}),
    };
  } finally {
    clearTimeout(timer);
    server.close();
  }
}
