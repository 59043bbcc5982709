// The recorded histories (test/histories) hold what Temporal stores: with the payload codec on, none of them may show a
// dataset key, a metric, an approval comment or a person's name, neither in the JSON text nor inside a payload's
// base64 data. The scanner is shown to find them in the same histories decrypted.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../../stack/paths';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { AesGcmPayloadCodec, decodePayloadsIn } from '../../adapters/payloadCodec';
import { TEST_CODEC_KEYS } from '../helpers/codec';

const dir = path.join(projectRoot, 'test', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

/** What must never be readable on the server: datasets, metrics, approval comments, the tests' people. */
const SECRETS: [string, RegExp][] = [
  ['a dataset key', /\.parquet\b/],
  ['a metric', /\b(rocAuc|logLoss|brierScore)\b/],
  ['an approval comment', /\b(looks good|no gain|risk sign-off|approved after the release|one is enough)\b/],
  ['a person', /\b(alice|bob|carol|dave|mallory|ana)\b/],
];

/** Every string in a JSON value, and each base64-looking one decoded (payload data and metadata are base64). */
function readableTexts(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value);
    if (value.length >= 4 && /^[A-Za-z0-9+/]+={0,2}$/.test(value))
      out.push(Buffer.from(value, 'base64').toString('latin1'));
  } else if (Array.isArray(value)) for (const v of value) readableTexts(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) readableTexts(v, out);
  return out;
}

/** The secrets a history's raw text and decoded payloads show, e.g. "a person: alice". */
function plaintextFindings(rawJson: string): string[] {
  const texts = [rawJson, ...readableTexts(JSON.parse(rawJson))];
  return SECRETS.flatMap(([what, pattern]) =>
    texts.flatMap((t) => {
      const m = pattern.exec(t);
      return m ? [`${what}: ${m[0]}`] : [];
    }),
  ).filter((f, i, all) => all.indexOf(f) === i);
}

/** The history with every payload decrypted (the test key) and stored in plaintext, as without a codec. */
async function decrypted(raw: string): Promise<string> {
  return historyToJSON(
    await decodePayloadsIn(historyFromJSON(JSON.parse(raw)), new AesGcmPayloadCodec(TEST_CODEC_KEYS)),
  );
}

describe('no plaintext in the recorded histories', () => {
  it('has histories to scan', () => assert.ok(files.length >= 10, `found ${files.length}`));

  it('the scanner finds secrets in plain JSON text and in base64 payload data', () => {
    const data = Buffer.from(JSON.stringify({ dataset: { keys: ['data/jan.parquet'] }, by: 'alice' })).toString(
      'base64',
    );
    const sample = JSON.stringify({ events: [{ input: { payloads: [{ metadata: {}, data }] }, message: 'no gain' }] });
    assert.deepEqual(plaintextFindings(sample).sort(), [
      'a dataset key: .parquet',
      'a person: alice',
      'an approval comment: no gain',
    ]);
  });

  it('the scanner finds secrets in a recorded history once it is decrypted', async () => {
    const raw = readFileSync(path.join(dir, 'pipeline-manual-approval.json'), 'utf8');
    const findings = plaintextFindings(await decrypted(raw));
    assert.ok(findings.includes('a dataset key: .parquet'), findings.join('; '));
    assert.ok(
      findings.some((f) => f.startsWith('a metric')),
      findings.join('; '),
    );
    assert.ok(
      findings.some((f) => f.startsWith('a person')),
      findings.join('; '),
    );
  });

  for (const file of files)
    it(`${file} shows no dataset key, metric, comment or name`, () => {
      assert.deepEqual(plaintextFindings(readFileSync(path.join(dir, file), 'utf8')), []);
    });
});
