// `ct codec-server` on a loopback port: encode/decode round trip in the Web UI's JSON form, CORS for the UI's origin
// only, the injected authenticator, bad bodies, and logs without payload contents.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import pino from 'pino';
import { AesGcmPayloadCodec } from '../../adapters/payloadCodec';
import { devAuthenticator, startCodecServer } from '../../cli/codecServer';
import { HttpError } from '../../triggers/http';
import { TEST_CODEC_KEYS } from '../helpers/codec';

const UI = 'http://127.0.0.1:8233';
const lines: string[] = [];
const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
const plain = defaultPayloadConverter.toPayload({ dataset: { keys: ['data/jan.parquet'] }, by: 'alice' });
const asJson = {
  metadata: Object.fromEntries(Object.entries(plain.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(plain.data!).toString('base64'),
};

describe('codec server', () => {
  let servers: Awaited<ReturnType<typeof startCodecServer>>[];
  let url: string;
  let strict: string;
  const post = (base: string, path: string, body: unknown, headers: Record<string, string> = { origin: UI }) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  before(async () => {
    const codec = new AesGcmPayloadCodec(TEST_CODEC_KEYS);
    servers = [
      await startCodecServer({ codec, uiOrigin: UI, authenticate: devAuthenticator(UI), logger, port: 0 }),
      // An authenticator that refuses everyone, as a bearer-token check refuses a missing token.
      await startCodecServer({
        codec,
        uiOrigin: UI,
        authenticate: () => Promise.reject(new HttpError(401, 'bearer token required')),
        logger,
        port: 0,
      }),
    ];
    [url, strict] = servers.map((s) => s.url) as [string, string];
  });
  after(async () => {
    for (const s of servers ?? []) await s.close();
  });

  it('encodes to binary/encrypted and decodes back, in the JSON form the Web UI sends', async () => {
    const encoded = await post(url, '/encode', { payloads: [asJson] });
    assert.equal(encoded.status, 200);
    assert.equal(encoded.headers.get('access-control-allow-origin'), UI);
    const body = (await encoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString(), 'binary/encrypted');
    assert.ok(!Buffer.from(body.payloads[0]!.data, 'base64').toString('latin1').includes('jan.parquet'));
    const decoded = await post(url, '/decode', body);
    assert.deepEqual(await decoded.json(), { payloads: [asJson] });
  });

  it("answers the UI's preflight and refuses other origins with 403", async () => {
    const preflight = await fetch(`${url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI, 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), UI);
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'X-Namespace, Content-Type, Authorization');
    const other = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    assert.equal((await post(url, '/decode', { payloads: [] }, { origin: 'http://evil.example' })).status, 403);
  });

  it('runs the authenticator first: the dev one wants the Origin, an injected one may refuse with 401', async () => {
    const noOrigin = await post(url, '/decode', { payloads: [] }, {});
    assert.equal(noOrigin.status, 403);
    assert.match(((await noOrigin.json()) as { error: string }).error, /Origin must be the Web UI's/);
    const refused = await post(strict, '/decode', { payloads: [asJson] });
    assert.equal(refused.status, 401);
    assert.deepEqual(await refused.json(), { error: 'bearer token required' });
  });

  it('says what is wrong with a bad body, and with a payload it cannot decrypt', async () => {
    const notJson = await post(url, '/decode', '{"payloads": [');
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { error: string }).error, /^body is not JSON/);
    const badField = await post(url, '/decode', { payloads: [{ data: '%%%' }] });
    assert.equal(badField.status, 400);
    assert.match(((await badField.json()) as { error: string }).error, /payloads\[0\]\.data: expected base64/);
    const foreign = await new AesGcmPayloadCodec([
      { id: 'other', key: Buffer.alloc(32, 7).toString('base64'), retired: false },
    ]).encode([plain]);
    const b64 = (v: Uint8Array) => Buffer.from(v).toString('base64');
    const unknown = await post(url, '/decode', {
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(foreign[0]!.metadata!).map(([k, v]) => [k, b64(v)])),
          data: b64(foreign[0]!.data!),
        },
      ],
    });
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { error: string }).error, /payload encrypted with unknown key other/);
    assert.equal((await post(url, '/nope', { payloads: [] })).status, 404);
  });

  it('logs method, path, status and payload count, never payload contents or keys', () => {
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'codec request');
    assert.ok(logged.some((l) => l.method === 'POST' && l.path === '/encode' && l.status === 200 && l.payloads === 1));
    const all = lines.join('\n');
    for (const secret of ['jan.parquet', 'alice', asJson.data, TEST_CODEC_KEYS[0]!.key])
      assert.ok(!all.includes(secret), `the log does not hold ${secret.slice(0, 12)}…`);
  });
});
