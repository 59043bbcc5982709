// A real OpenID Connect provider on loopback for the identity tests and local trials: Ory Hydra (built by
// stack/install.sh) with an in-memory store, and its login + consent app — a small page that signs in the static
// users given here and puts their groups into the ID token. `ct` registers as a public client (PKCE, loopback).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { requireTool } from './paths';
import { freePort, type ManagedProcess, startOnFreePorts, startProcess, waitUntilReady } from './processes';

export interface OidcUser {
  username: string;
  password: string;
  name: string;
  email: string;
  groups: string[];
}

export interface OidcProvider {
  issuer: string;
  adminUrl: string;
  clientId: string;
  process: ManagedProcess;
  /** Registers another public client (e.g. a second audience) and returns its id. */
  addClient(clientId: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startOidcProvider(opts: {
  dataDir: string;
  users: OidcUser[];
  clientId?: string;
  idTokenTtl?: string;
}): Promise<OidcProvider> {
  const login = await startLoginApp(opts.users, () => adminUrl);
  let adminUrl = '';
  try {
    return await startOnFreePorts(async () => {
      const [publicPort, adminPort] = [await freePort(), await freePort()];
      const issuer = `http://127.0.0.1:${publicPort}`;
      adminUrl = `http://127.0.0.1:${adminPort}`;
      const proc = startProcess(
        'hydra',
        requireTool('hydra'),
        ['serve', 'all', '--dev', '--sqa-opt-out'],
        opts.dataDir,
        {
          DSN: 'memory',
          URLS_SELF_ISSUER: issuer,
          URLS_LOGIN: `${login.url}/login`,
          URLS_CONSENT: `${login.url}/consent`,
          SECRETS_SYSTEM: randomBytes(24).toString('hex'),
          SERVE_PUBLIC_HOST: '127.0.0.1',
          SERVE_PUBLIC_PORT: String(publicPort),
          SERVE_ADMIN_HOST: '127.0.0.1',
          SERVE_ADMIN_PORT: String(adminPort),
          STRATEGIES_ACCESS_TOKEN: 'jwt',
          TTL_ID_TOKEN: opts.idTokenTtl ?? '1h',
          LOG_LEVEL: 'warn',
        },
      );
      await waitUntilReady(proc, async () => (await fetch(`${adminUrl}/health/ready`)).ok, 60_000);
      const addClient = async (clientId: string) => {
        const res = await fetch(`${adminUrl}/admin/clients`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            client_id: clientId,
            client_name: clientId,
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            scope: 'openid offline_access profile email',
            redirect_uris: ['http://127.0.0.1/callback'],
            token_endpoint_auth_method: 'none',
          }),
        });
        if (!res.ok) throw new Error(`hydra refused client ${clientId}: HTTP ${res.status} ${await res.text()}`);
        return clientId;
      };
      const clientId = await addClient(opts.clientId ?? 'ct');
      return {
        issuer,
        adminUrl,
        clientId,
        process: proc,
        addClient,
        async stop() {
          await proc.stop();
          await new Promise((resolve) => login.server.close(resolve));
        },
      };
    });
  } catch (err) {
    login.server.close();
    throw err;
  }
}

const page = (body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Sign in</title></head><body>${body}</body></html>`;
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function hydraAdmin(adminUrl: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${adminUrl}${path}`, {
    method: body === undefined ? 'GET' : 'PUT',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`hydra admin ${path.split('?')[0]}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** The login and consent app: a sign-in form for the static users; consent grants what was asked. */
async function startLoginApp(users: OidcUser[], adminUrl: () => string) {
  const byName = new Map(users.map((u) => [u.username, u]));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const redirect = (to: unknown) => res.writeHead(302, { location: String(to) }).end();
    const handle = async () => {
      if (req.method === 'GET' && url.pathname === '/login') {
        const challenge = url.searchParams.get('login_challenge') ?? '';
        res.writeHead(200, { 'content-type': 'text/html' }).end(
          page(`<form method="post" action="/login"><input type="hidden" name="challenge" value="${escapeHtml(challenge)}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>`),
        );
        return;
      }
      if (req.method === 'POST' && url.pathname === '/login') {
        let raw = '';
        for await (const chunk of req) raw += String(chunk);
        const form = new URLSearchParams(raw);
        const user = byName.get(form.get('username') ?? '');
        if (!user || user.password !== form.get('password')) {
          res.writeHead(401, { 'content-type': 'text/html' }).end(page('<p>Wrong username or password.</p>'));
          return;
        }
        const challenge = encodeURIComponent(form.get('challenge') ?? '');
        const accepted = await hydraAdmin(
          adminUrl(),
          `/admin/oauth2/auth/requests/login/accept?login_challenge=${challenge}`,
          {
            subject: user.username,
          },
        );
        redirect(accepted.redirect_to);
        return;
      }
      if (req.method === 'GET' && url.pathname === '/consent') {
        const challenge = encodeURIComponent(url.searchParams.get('consent_challenge') ?? '');
        const ask = await hydraAdmin(adminUrl(), `/admin/oauth2/auth/requests/consent?consent_challenge=${challenge}`);
        const user = byName.get(String(ask.subject));
        if (!user) throw new Error(`consent for unknown subject ${String(ask.subject)}`);
        const claims = { name: user.name, email: user.email, groups: user.groups };
        const accepted = await hydraAdmin(
          adminUrl(),
          `/admin/oauth2/auth/requests/consent/accept?consent_challenge=${challenge}`,
          {
            grant_scope: ask.requested_scope,
            grant_access_token_audience: ask.requested_access_token_audience,
            session: { id_token: claims, access_token: claims },
          },
        );
        redirect(accepted.redirect_to);
        return;
      }
      res.writeHead(404).end();
    };
    handle().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`login app error: ${(err as Error).message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
