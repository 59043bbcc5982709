// The data converter of every client and worker: payloads encrypted by the AES-256-GCM codec (adapters/payloadCodec),
// failure messages encoded so that the codec encrypts them too. Which keys: codec.keys (CT_CODEC_KEYS); without
// keys, the local stack uses a key generated once in its state dir; anything else must say codec.mode: none.
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { z } from 'zod';
import { AesGcmPayloadCodec } from '../adapters/payloadCodec';
import { type AppConfig, type CodecKey, CodecKeys, pointsAtLocalStack } from '../core/appConfig';
import { parseOrThrow } from '../core/parse';
import { stateDir } from '../stack/paths';

const require = createRequire(import.meta.url);
/** The module holding the failure converter: workers load it, and workflow bundles are built with it. */
export const failureConverterPath = require.resolve('../core/failureConverter.ts');

/** Where the local stack keeps its generated codec key (mode 0600). */
export const localCodecKeyFile = () => path.join(stateDir, 'codec-keys.json');

const LocalKeyFile = z.object({ keys: CodecKeys }).strict();

/** The local stack's codec keys: read from its state dir, or generated there once (mode 0600) when missing. */
export function localCodecKeys(file = localCodecKeyFile()): AppConfig['codec']['keys'] {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const key = { id: `local-${new Date().toISOString().slice(0, 10)}`, key: randomBytes(32).toString('base64') };
    // Written aside, then linked into place: two processes starting at once end up with the same key.
    const draft = `${file}.${process.pid}.tmp`;
    writeFileSync(draft, `${JSON.stringify({ keys: [key] }, null, 2)}\n`, { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(draft, { force: true });
    }
  }
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new Error(`${file} is not JSON; delete it to generate a new local key (payloads it encrypted are lost)`);
  }
  return parseOrThrow(LocalKeyFile, content, `local codec keys (${file})`).keys;
}

/** Refused at start-up: payloads would travel in plaintext to a shared server. */
export class CodecKeysMissingError extends Error {
  override readonly name = 'CodecKeysMissingError';
}

/** The keys this configuration encrypts with, or null for plaintext payloads (codec.mode: none). */
export function codecKeysOf(config: AppConfig): AppConfig['codec']['keys'] | null {
  if (config.codec.mode === 'none') return null;
  if (config.codec.keys.length > 0) return config.codec.keys;
  if (pointsAtLocalStack(config)) return localCodecKeys();
  throw new CodecKeysMissingError(
    'no payload encryption keys: set CT_CODEC_KEYS=<id>=<base64 of 32 bytes> (make a key with `openssl rand -base64 32`) ' +
      'or codec.keys in ct.config; to send plaintext payloads on purpose, set codec.mode: none (CT_CODEC_MODE=none)',
  );
}

/** For logs: which key encrypts new payloads (its id, never the key), or that payloads are plaintext. */
export function encryptionOf(dataConverter: DataConverter): string {
  const codec = dataConverter.payloadCodecs?.find((c) => c instanceof AesGcmPayloadCodec);
  return codec ? `AES-256-GCM, key ${codec.encryptingKeyId}` : 'off (codec.mode: none)';
}

/** The data converter that encrypts with `keys` (null: plaintext payloads), failure messages encoded either way. */
export function dataConverterFor(keys: readonly CodecKey[] | null): DataConverter {
  return { failureConverterPath, payloadCodecs: keys ? [new AesGcmPayloadCodec(keys)] : [] };
}

/** The data converter every client, worker and replayer of this configuration uses. */
export function dataConverterOf(config: AppConfig): DataConverter {
  return dataConverterFor(codecKeysOf(config));
}
