// Token verification against a real OpenID Connect provider (Ory Hydra): the verified subject and groups of a
// valid token, each kind of bad token refused with its reason, and the codec server's bearer check.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import pino from 'pino';
import { AesGcmPayloadCodec } from '../../adapters/payloadCodec';
import { OidcVerifier } from '../../adapters/oidcVerifier';
import { bearerAuthenticator, startCodecServer } from '../../cli/codecServer';
import { TEST_CODEC_KEYS } from '../helpers/codec';
import type { OidcProvider } from '../../stack/oidcProvider';
import { idTokenFor, startTestOidcProvider } from '../helpers/oidc';

let dir: string;
let provider: OidcProvider;
let other: OidcProvider;
let verifier: OidcVerifier;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ct-oidc-'));
  [provider, other] = await Promise.all([startTestOidcProvider(dir), startTestOidcProvider(dir, 'other')]);
  verifier = new OidcVerifier({
    issuer: provider.issuer,
    clientId: provider.clientId,
    rolesClaim: 'groups',
    subjectClaim: 'sub',
    clockSkewSeconds: 60,
    scopes: ['openid'],
  });
});
after(async () => {
  await Promise.all([provider?.stop(), other?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

test('a valid ID token yields the verified subject, its groups, the issuer and the token id', async () => {
  const token = await idTokenFor(provider, 'alice');
  const check = await verifier.verify(token);
  assert.ok(check.ok, JSON.stringify(check));
  assert.equal(check.actor.subject, 'alice');
  assert.deepEqual(check.actor.groups, ['ml-approvers']);
  assert.equal(check.actor.issuer, provider.issuer);
  assert.equal(check.actor.tokenId, decodeJwt(token).jti);
  assert.ok(!check.actor.tokenId?.includes(token.split('.')[2]!), 'the token id is not the token');
});

test('a forged token (same claims and key id, signed with another key) is refused', async () => {
  const real = await idTokenFor(provider, 'mallory');
  const claims = decodeJwt(real);
  const { kid } = decodeProtectedHeader(real);
  const { privateKey } = await generateKeyPair('RS256');
  const forged = await new SignJWT({ ...claims, sub: 'alice', groups: ['ml-approvers'] })
    .setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}) })
    .sign(privateKey);
  const check = await verifier.verify(forged);
  assert.equal(check.ok, false);
  assert.match(!check.ok ? check.reason : '', /forged|signature/);
  const noKid = await new SignJWT({ ...claims, sub: 'alice' })
    .setProtectedHeader({ alg: 'RS256', kid: 'mine' })
    .sign(privateKey);
  const check2 = await verifier.verify(noKid);
  assert.match(!check2.ok ? check2.reason : '', /key the issuer does not publish/);
});

test('a token from another issuer is refused, naming both issuers', async () => {
  const check = await verifier.verify(await idTokenFor(other, 'alice'));
  assert.equal(check.ok, false);
  assert.match(!check.ok ? check.reason : '', new RegExp(`issued by ${other.issuer}, not by ${provider.issuer}`));
});

test('an expired token is refused with its expiry; within the clock skew it still holds', async () => {
  const token = await idTokenFor(provider, 'bob');
  const exp = Number(decodeJwt(token).exp) * 1000;
  const late = await verifier.verify(token, new Date(exp + 61_000));
  assert.equal(late.ok, false);
  assert.match(!late.ok ? late.reason : '', new RegExp(`expired at ${new Date(exp).toISOString()}`));
  assert.equal((await verifier.verify(token, new Date(exp + 30_000))).ok, true);
});

test('a token for another audience (another client of the same provider) is refused', async () => {
  await provider.addClient('dashboard');
  const check = await verifier.verify(await idTokenFor(provider, 'alice', 'dashboard'));
  assert.equal(check.ok, false);
  assert.match(!check.ok ? check.reason : '', /audience dashboard, not ct/);
});

test('junk is refused as malformed', async () => {
  for (const junk of ['', 'abc', 'a.b.c', 'eyJ.eyJ.sig']) {
    const check = await verifier.verify(junk);
    assert.equal(check.ok, false);
  }
});

test('the codec server, where identities are verified, decodes for a valid bearer token only', async () => {
  const UI = 'http://127.0.0.1:8233';
  const codec = new AesGcmPayloadCodec(TEST_CODEC_KEYS);
  const server = await startCodecServer({
    codec,
    uiOrigin: UI,
    authenticate: bearerAuthenticator(UI, (t) => verifier.verify(t)),
    logger: pino({ level: 'silent' }),
    port: 0,
  });
  try {
    const [encrypted] = await codec.encode([
      { metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode('"secret"') },
    ]);
    const body = JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(encrypted!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(encrypted!.data!).toString('base64'),
        },
      ],
    });
    const decode = (authorization?: string) =>
      fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { origin: UI, 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body,
      });
    const none = await decode();
    assert.equal(none.status, 401);
    assert.match(await none.text(), /bearer token is required/);
    const foreign = await decode(`Bearer ${await idTokenFor(other, 'alice')}`);
    assert.equal(foreign.status, 401);
    assert.match(await foreign.text(), /not by/);
    const ok = await decode(`Bearer ${await idTokenFor(provider, 'alice')}`);
    assert.equal(ok.status, 200);
    const decoded = (await ok.json()) as { payloads: { data: string }[] };
    assert.equal(Buffer.from(decoded.payloads[0]!.data, 'base64').toString(), '"secret"');
  } finally {
    await server.close();
  }
});
