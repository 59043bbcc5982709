// The payload codec: every payload leaves this process AES-256-GCM encrypted, as Temporal's samples-typescript
// encryption sample does it. An encrypted payload has metadata `encoding: binary/encrypted` and
// `encryption-key-id: <id>`; its data is a 12-byte random IV, the ciphertext of the whole original Payload
// (protobuf temporal.api.common.v1.Payload) and the 16-byte GCM tag. Keys rotate: the newest key that is not retired
// encrypts, older ones still decrypt, a retired one is refused. Keys and plaintext are never logged or put in errors.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { CodecKey } from '../core/appConfig';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** A payload that cannot be decrypted: retired or unknown key, or data that fails GCM authentication. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/** Whether a payload is one this codec (or another with the same format) encrypted. */
export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: Map<string, { key: Buffer; retired: boolean }>;
  /** The id of the key that encrypts: the newest one not retired. */
  readonly encryptingKeyId: string;

  constructor(keys: readonly CodecKey[]) {
    this.keys = new Map(keys.map((k) => [k.id, { key: Buffer.from(k.key, 'base64'), retired: k.retired }]));
    for (const [id, { key }] of this.keys)
      if (key.length !== 32) throw new Error(`codec key ${id} is ${key.length} bytes; AES-256 needs 32`);
    const active = keys.filter((k) => !k.retired);
    if (active.length === 0) throw new Error('the payload codec needs at least one key that is not retired');
    this.encryptingKeyId = active[active.length - 1]!.id;
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const { key } = this.keys.get(this.encryptingKeyId)!;
    const keyId = Buffer.from(this.encryptingKeyId);
    return Promise.resolve(
      payloads.map((payload) => {
        if (isEncrypted(payload)) return payload;
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        const plain = ProtoPayload.encode(payload).finish();
        const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        return { metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: keyId }, data };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decodeOne(p));
  }

  /** {@link decode} of one payload, synchronously: decrypted when encrypted, else as it is. */
  decodeOne(payload: Payload): Payload {
    if (!isEncrypted(payload)) return payload;
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    if (id === undefined) throw new PayloadDecryptionError(`encrypted payload has no ${KEY_ID_METADATA} metadata`);
    const entry = this.keys.get(id);
    if (!entry)
      throw new PayloadDecryptionError(
        `payload encrypted with unknown key ${id}; add it to codec.keys (CT_CODEC_KEYS) to read this payload`,
      );
    if (entry.retired)
      throw new PayloadDecryptionError(
        `payload encrypted with retired key ${id}; un-retire it in codec.keys (CT_CODEC_KEYS) to read this payload`,
      );
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError(`encrypted payload (key ${id}) is ${data.length} bytes: too short`);
    const decipher = createDecipheriv('aes-256-gcm', entry.key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `encrypted payload (key ${id}) failed GCM authentication: it was altered, or encrypted with another key of that id`,
      );
    }
    const decoded = ProtoPayload.decode(plain);
    return { metadata: decoded.metadata, data: decoded.data };
  }
}

/** Every encrypted payload inside `value` (a history, an event, any proto message) decrypted in place by `codec`:
 * for code that reads a fetched history's payloads itself (run facts of `ct report`). */
export async function decodePayloadsIn<T>(value: T, codec: PayloadCodec): Promise<T> {
  const found: Payload[] = [];
  const walk = (v: unknown) => {
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return;
    if (Array.isArray(v)) return v.forEach(walk);
    const o = v as Payload;
    if (o.data instanceof Uint8Array && typeof o.metadata === 'object' && o.metadata !== null && isEncrypted(o))
      found.push(o);
    else Object.values(v).forEach(walk);
  };
  walk(value);
  const decoded = await codec.decode(found);
  found.forEach((p, i) => Object.assign(p, { metadata: decoded[i]!.metadata, data: decoded[i]!.data }));
  return value;
}
