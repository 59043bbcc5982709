// The fixed payload-encryption key of the test suite: every test stack, tenant, `ct` process, replayer and recorded
// history (test/histories) uses it, so the suite runs encrypted end to end and the histories replay anywhere.
import type { CodecKey } from '../../core/appConfig';
import { AesGcmPayloadCodec } from '../../adapters/payloadCodec';
import { devAuthenticator, startCodecServer } from '../../cli/codecServer';
import { dataConverterFor } from '../../workers/dataConverter';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import pino from 'pino';

export const TEST_CODEC_KEYS: CodecKey[] = [
  { id: 'test-2026', key: '7IYP+Qwa2ifITqWLdm6L5lOemebr94Abyj2Crmm7g+s=', retired: false },
];

/** CT_CODEC_KEYS for `keys` (the format core/appConfig parseCodecKeysEnv reads). */
export function codecKeysEnv(keys: readonly CodecKey[] = TEST_CODEC_KEYS): string {
  return keys.map((k) => `${k.retired ? '!' : ''}${k.id}=${k.key}`).join(',');
}

/** The data converter of the tests' own clients and replayer (the same as a worker configured with the test key). */
export const testDataConverter = () => dataConverterFor(TEST_CODEC_KEYS);

const testCodec = new AesGcmPayloadCodec(TEST_CODEC_KEYS);
/** The value a payload of the test suite holds (decrypted with the test key when encrypted). */
export function payloadValue<T = Record<string, unknown>>(payload: Payload): T {
  return defaultPayloadConverter.fromPayload<T>(testCodec.decodeOne(payload));
}

/** A `ct codec-server` (in this process) with the test key for the Web UI at `uiOrigin`, and the Temporal CLI flags
 * that decode through it (the dev authenticator wants the UI's Origin). */
export async function startTestCodecServer(uiOrigin = 'http://127.0.0.1:1') {
  const server = await startCodecServer({
    codec: testCodec,
    uiOrigin,
    authenticate: devAuthenticator(uiOrigin),
    logger: pino({ level: 'silent' }),
    port: 0,
  });
  return { ...server, cliFlags: ['--codec-endpoint', server.url, '--codec-header', `Origin=${uiOrigin}`] };
}
