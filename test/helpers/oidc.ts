// A real OpenID Connect provider for the tests (Ory Hydra + its login app, stack/oidcProvider.ts), its users, and a
// headless browser: the redirects of the sign-in followed with a cookie jar, the login form posted as a person would.
import path from 'node:path';
import { signInWithBrowser } from '../../adapters/oidcLogin';
import { type OidcProvider, type OidcUser, startOidcProvider } from '../../stack/oidcProvider';

export const USERS = {
  alice: {
    username: 'alice',
    password: 'alice-pw',
    name: 'Alice',
    email: 'alice@example.com',
    groups: ['ml-approvers'],
  },
  bob: { username: 'bob', password: 'bob-pw', name: 'Bob', email: 'bob@example.com', groups: ['ml-approvers'] },
  carol: { username: 'carol', password: 'carol-pw', name: 'Carol', email: 'carol@example.com', groups: ['ml-leads'] },
  dave: { username: 'dave', password: 'dave-pw', name: 'Dave', email: 'dave@example.com', groups: ['ml-approvers'] },
  mallory: {
    username: 'mallory',
    password: 'mallory-pw',
    name: 'Mallory',
    email: 'm@example.com',
    groups: ['interns'],
  },
} satisfies Record<string, OidcUser>;
export type TestUser = keyof typeof USERS;

export function startTestOidcProvider(dir: string, name = 'oidc'): Promise<OidcProvider> {
  return startOidcProvider({ dataDir: path.join(dir, name), users: Object.values(USERS) });
}

/** Follows a sign-in from its authorization URL to the loopback callback, signing in as `user`. */
export async function signInHeadless(authUrl: string, user: OidcUser): Promise<void> {
  const jar = new Map<string, string>();
  const send = async (url: string, init: RequestInit = {}) => {
    const host = new URL(url).host;
    const cookies = [...jar].filter(([k]) => k.startsWith(`${host} `)).map(([k, v]) => `${k.split(' ')[1]}=${v}`);
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        ...(cookies.length ? { cookie: cookies.join('; ') } : {}),
      },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(`${host} ${pair!.slice(0, eq)}`, pair!.slice(eq + 1));
    }
    return res;
  };
  let url = authUrl;
  for (let hop = 0; hop < 20; hop++) {
    const res = await send(url);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).toString();
      continue;
    }
    const html = await res.text();
    if (!res.ok) throw new Error(`sign-in hop ${url} answered HTTP ${res.status}: ${html.slice(0, 300)}`);
    const challenge = /name="challenge" value="([^"]*)"/.exec(html)?.[1];
    if (challenge === undefined) return; // the loopback callback's "signed in" page
    const posted = await send(new URL('/login', url).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        challenge: challenge.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))),
        username: user.username,
        password: user.password,
      }).toString(),
    });
    if (posted.status !== 302) throw new Error(`login form answered HTTP ${posted.status}: ${await posted.text()}`);
    url = new URL(posted.headers.get('location')!, url).toString();
  }
  throw new Error('sign-in did not finish within 20 redirects');
}

/** An ID token for `user` from `provider`, obtained through the real authorization-code flow. */
export async function idTokenFor(
  provider: OidcProvider,
  user: TestUser,
  clientId = provider.clientId,
): Promise<string> {
  let signIn: Promise<void> | undefined;
  const tokens = await signInWithBrowser({
    issuer: provider.issuer,
    clientId,
    scopes: ['openid', 'profile', 'email'],
    onUrl: (url) => {
      signIn = signInHeadless(url, USERS[user]);
    },
    timeoutMs: 30_000,
  });
  await signIn;
  return tokens.idToken;
}
