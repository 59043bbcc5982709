// The fixed payload-encryption key of the test suite: every test stack, tenant, `ct` process, replayer and recorded
// history (test/histories) uses it, so the suite runs encrypted end to end and the histories replay anywhere.
import type { CodecKey } from '../../core/appConfig';
import { dataConverterFor } from '../../workers/dataConverter';

export const TEST_CODEC_KEYS: CodecKey[] = [
  { id: 'test-2026', key: '7IYP+Qwa2ifITqWLdm6L5lOemebr94Abyj2Crmm7g+s=', retired: false },
];

/** CT_CODEC_KEYS for `keys` (the format core/appConfig parseCodecKeysEnv reads). */
export function codecKeysEnv(keys: readonly CodecKey[] = TEST_CODEC_KEYS): string {
  return keys.map((k) => `${k.retired ? '!' : ''}${k.id}=${k.key}`).join(',');
}

/** The data converter of the tests' own clients and replayer (the same as a worker configured with the test key). */
export const testDataConverter = () => dataConverterFor(TEST_CODEC_KEYS);
