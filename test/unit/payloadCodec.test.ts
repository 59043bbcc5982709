// The AES-256-GCM payload codec: round trip, rotation, retired and unknown keys, tampering, and no key or plaintext in
// any error; the CT_CODEC_KEYS format and the refusal to run without keys away from the local stack.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, isEncrypted, KEY_ID_METADATA } from '../../adapters/payloadCodec';
import { AppConfig, type CodecKey, mergeEnv } from '../../core/appConfig';
import { codecKeysOf, localCodecKeys } from '../../workers/dataConverter';

const key = (id: string, retired = false): CodecKey => ({ id, key: randomBytes(32).toString('base64'), retired });
const SECRET_INPUT = { modelId: 'flight-delay', dataset: { keys: ['data/jan.parquet'] }, by: 'alice' };
const payload = (value: unknown = SECRET_INPUT): Payload => defaultPayloadConverter.toPayload(value);
const text = (p: Payload) => Buffer.from(p.data ?? []).toString('latin1');
const meta = (p: Payload, k: string) => Buffer.from(p.metadata?.[k] ?? []).toString();

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (err: unknown) => err as Error,
  );
}

describe('AesGcmPayloadCodec', () => {
  it('round-trips a payload, which travels encrypted under the key id and random IVs', async () => {
    const k1 = key('k1');
    const codec = new AesGcmPayloadCodec([k1]);
    const [a, b] = await codec.encode([payload(), payload()]);
    assert.equal(meta(a!, 'encoding'), 'binary/encrypted');
    assert.equal(meta(a!, KEY_ID_METADATA), 'k1');
    assert.ok(!text(a!).includes('jan.parquet') && !text(a!).includes('alice'), 'no plaintext in the data');
    assert.notDeepEqual(a!.data, b!.data, 'a fresh IV per payload');
    const [back] = await codec.decode([a!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(back!), SECRET_INPUT);
    assert.equal(meta(back!, 'encoding'), 'json/plain');
  });

  it('leaves encrypted payloads alone on encode, and plaintext ones (old histories) alone on decode', async () => {
    const codec = new AesGcmPayloadCodec([key('k1')]);
    const [once] = await codec.encode([payload()]);
    assert.deepEqual(await codec.encode([once!]), [once]);
    const plain = payload();
    assert.deepEqual(await codec.decode([plain]), [plain]);
  });

  it('rotates: new payloads use the newest key, payloads of the older key still decrypt', async () => {
    const k1 = key('k1');
    const [old] = await new AesGcmPayloadCodec([k1]).encode([payload()]);
    const rotated = new AesGcmPayloadCodec([k1, key('k2')]);
    assert.equal(rotated.encryptingKeyId, 'k2');
    const [fresh] = await rotated.encode([payload()]);
    assert.equal(meta(fresh!, KEY_ID_METADATA), 'k2');
    for (const p of [old!, fresh!])
      assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([p]))[0]!), SECRET_INPUT);
  });

  it('refuses a payload of a retired key, naming the key; a retired key encrypts nothing', async () => {
    const k1 = key('k1');
    const [old] = await new AesGcmPayloadCodec([k1]).encode([payload()]);
    const codec = new AesGcmPayloadCodec([{ ...k1, retired: true }, key('k2')]);
    assert.equal(codec.encryptingKeyId, 'k2');
    const err = await rejection(codec.decode([old!]));
    assert.match(err.message, /^payload encrypted with retired key k1; /);
    assert.ok(!err.message.includes(k1.key));
    assert.throws(() => new AesGcmPayloadCodec([{ ...k1, retired: true }]), /at least one key that is not retired/);
  });

  it('refuses a payload of an unknown key, naming it', async () => {
    const [p] = await new AesGcmPayloadCodec([key('elsewhere')]).encode([payload()]);
    const err = await rejection(new AesGcmPayloadCodec([key('k1')]).decode([p!]));
    assert.match(err.message, /payload encrypted with unknown key elsewhere; add it to codec\.keys \(CT_CODEC_KEYS\)/);
  });

  it('refuses a tampered payload (GCM authentication), and one encrypted by another key of the same id', async () => {
    const k1 = key('k1');
    const codec = new AesGcmPayloadCodec([k1]);
    const [p] = await codec.encode([payload()]);
    const data = Buffer.from(p!.data!);
    data[20] = data[20]! ^ 1;
    const tampered = await rejection(codec.decode([{ ...p!, data }]));
    assert.match(tampered.message, /\(key k1\) failed GCM authentication/);
    const impostor = await rejection(new AesGcmPayloadCodec([key('k1')]).decode([p!]));
    assert.match(impostor.message, /failed GCM authentication/);
    for (const err of [tampered, impostor]) {
      assert.ok(!err.message.includes(k1.key), 'no key in the message');
      assert.ok(!err.message.includes('jan.parquet'), 'no plaintext in the message');
    }
    assert.ok(isEncrypted(p!));
  });
});

describe('codec configuration', () => {
  const base = { s3: { bucket: 'b-bucket', endpoint: 'https://s3.example.com' }, temporal: { address: 'tc:7233' } };

  it('reads CT_CODEC_KEYS, oldest first, "!" marking a retired key', () => {
    const [k1, k2] = [key('k1'), key('k2')];
    const env = { CT_CODEC_KEYS: `!k1=${k1.key}, k2=${k2.key}` };
    const config = AppConfig.parse(mergeEnv(base, env));
    assert.deepEqual(config.codec.keys, [{ ...k1, retired: true }, k2]);
    assert.equal(config.codec.mode, 'encrypt');
  });

  it('refuses a malformed entry or key by field and position, never echoing the key', () => {
    const secret = randomBytes(32).toString('base64');
    assert.throws(
      () => mergeEnv(base, { CT_CODEC_KEYS: secret }),
      (err: Error) =>
        /CT_CODEC_KEYS \(codec\.keys\)[\s\S]*codec\.keys\[0\]: entry 1 of CT_CODEC_KEYS is not <id>=/.test(
          err.message,
        ) && !err.message.includes(secret),
    );
    const short = randomBytes(16).toString('base64');
    const result = AppConfig.safeParse(mergeEnv(base, { CT_CODEC_KEYS: `k1=${short}` }));
    assert.ok(!result.success);
    const message = JSON.stringify(result.error.issues);
    assert.match(message, /codec.*keys.*0.*key|base64 of exactly 32 bytes/);
    assert.ok(!message.includes(short), 'the bad key is not echoed');
    const twice = AppConfig.safeParse(mergeEnv(base, { CT_CODEC_KEYS: `k1=${secret},k1=${secret}` }));
    assert.match(JSON.stringify(twice.error?.issues), /key ids must be unique/);
  });

  it('away from the local stack, refuses to run without keys unless codec.mode is none', () => {
    assert.throws(() => codecKeysOf(AppConfig.parse(base)), /no payload encryption keys: set CT_CODEC_KEYS=/);
    assert.equal(codecKeysOf(AppConfig.parse({ ...base, codec: { mode: 'none' } })), null);
    const k1 = key('k1');
    assert.deepEqual(codecKeysOf(AppConfig.parse({ ...base, codec: { keys: [k1] } })), [k1]);
  });

  it('generates the local key once, mode 0600, and reads the same key afterwards', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ct-codec-')), 'state', 'codec-keys.json');
    const first = localCodecKeys(file);
    assert.equal(first.length, 1);
    assert.equal(Buffer.from(first[0]!.key, 'base64').length, 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(localCodecKeys(file), first);
  });
});
