// The webhook's signed-timestamp header and the governance tokens under generated hostile values: malformed,
// duplicated, far-future, far-past, huge, non-digit, whitespace, many signatures. Each is refused with its reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/curves/utils.js';
import fc from 'fast-check';
import { governancePublicKey, issueGovernanceToken } from '../../adapters/governanceKeys';
import { hmacSha256Hex } from '../../adapters/hmac';
import { signatureProblem, signWebhookBody } from '../../adapters/webhookSignature';
import { checkGovernanceToken, type TokenScope } from '../../core/governanceTokens';
import { parseSignatureHeader, SIGNATURE_FORMAT } from '../../core/signatureHeader';
import { fuzzParams, hostileString } from '../helpers/fuzz';

const secret = 'a-secret-of-sixteen+';
const body = Buffer.from('{"alertId":"a-1","modelId":"m","datasetDrift":true}');
const now = Date.UTC(2026, 0, 1, 12);
const nowSeconds = now / 1000;
const TOLERANCE = 300;
const expected = `(expected X-CT-Signature: ${SIGNATURE_FORMAT})`;
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
/** The v1 value that signs `body` at unix time `t` with `secret`. */
const v1At = (t: number) => hmacSha256Hex(secret, Buffer.concat([Buffer.from(`${t}.`), body]));
const problemOf = (header: string | undefined, at = now) => signatureProblem(secret, body, header, at, TOLERANCE);

/** Values a t= may hold that are not a unix time in seconds. */
const badTimestamp = fc.oneof(
  fc.constantFrom('', ' ', '-1', '+1', '1.5', '1e9', '0x10', 'NaN', 'Infinity', '١٢٣', '１２３', '1 2', '1\t2'),
  fc.bigInt({ min: 10n ** 12n, max: 10n ** 40n }).map(String),
  fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/^\s*\d{1,12}\s*$/.test(s) && !s.includes(',')),
);

describe('the X-CT-Signature header under generated values', () => {
  it('any string parses to one timestamp and 64-hex signatures, or is refused with the expected format', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString(), fc.string({ unit: 'binary', maxLength: 300 })), (header) => {
        const parsed = parseSignatureHeader(header);
        if (!parsed.ok) {
          assert.ok(parsed.problem.endsWith(expected), parsed.problem);
          return;
        }
        const times = header.split(',').filter((p) => p.includes('=') && p.slice(0, p.indexOf('=')).trim() === 't');
        assert.equal(times.length, 1);
        assert.ok(Number.isSafeInteger(parsed.value.timestamp) && parsed.value.timestamp >= 0);
        assert.ok(parsed.value.signatures.length > 0);
        for (const s of parsed.value.signatures) assert.match(s, /^[0-9a-f]{64}$/);
      }),
      fuzzParams(3000),
    );
  });

  it('a t= that is not 1-12 digits is refused, naming the value', () => {
    fc.assert(
      fc.property(badTimestamp, hex64, (t, sig) => {
        const problem = problemOf(`t=${t},v1=${sig}`);
        const named = `X-CT-Signature t="${t.trim().slice(0, 20)}" is not a unix time in seconds ${expected}`;
        assert.equal(problem, named);
      }),
      fuzzParams(),
    );
  });

  it('more than one t=, in one header or two joined by the HTTP server, is refused', () => {
    fc.assert(
      fc.property(fc.nat(10 ** 12 - 1), fc.nat(10 ** 12 - 1), fc.constantFrom(',', ', '), (a, b, join) => {
        const header = [signWebhookBody(secret, body, a * 1000), signWebhookBody(secret, body, b * 1000)].join(join);
        assert.match(problemOf(header)!, /^X-CT-Signature has more than one t= /);
      }),
      fuzzParams(),
    );
  });

  it('a correct signature counts only within the tolerance: far past and far future are refused with the age', () => {
    fc.assert(
      fc.property(fc.nat(10 ** 12 - 1), (t) => {
        const problem = problemOf(`t=${t},v1=${v1At(t)}`);
        const age = nowSeconds - t;
        if (Math.abs(age) <= TOLERANCE) assert.equal(problem, null);
        else if (age > 0)
          assert.equal(
            problem,
            `signature timestamp t=${t} is ${age} s old, outside the 300 s tolerance: ` +
              'a replayed or delayed request (sign each request when sending it)',
          );
        else
          assert.equal(
            problem,
            `signature timestamp t=${t} is ${-age} s in the future, outside the 300 s tolerance (check the sender's clock)`,
          );
      }),
      fuzzParams(),
    );
    for (const t of [0, 1, nowSeconds - 301, nowSeconds + 301, 999_999_999_999]) {
      assert.match(problemOf(`t=${t},v1=${v1At(t)}`)!, /outside the 300 s tolerance/, `t=${t}`);
    }
  });

  it('a moved timestamp, another body or junk signatures do not match, however many v1= are sent', () => {
    fc.assert(
      fc.property(fc.integer({ min: -300, max: 300 }), fc.array(hex64, { maxLength: 40 }), (shift, others) => {
        const t = nowSeconds + shift;
        const moved = shift === 0 ? t + 1 : t;
        const header = [`t=${moved}`, ...[v1At(nowSeconds), ...others].map((s) => `v1=${s}`)].join(',');
        assert.match(problemOf(header)!, /^X-CT-Signature does not match/);
        // The right one among many (secret rotation) is accepted, wherever it stands and in upper case.
        const rotated = [`t=${t}`, ...others.map((s) => `v1=${s}`), `v1=${v1At(t).toUpperCase()}`].join(',');
        assert.equal(problemOf(rotated), null);
      }),
      fuzzParams(),
    );
  });

  it('malformed parts are refused with their own reason', () => {
    const t = nowSeconds;
    const cases: [string | undefined, RegExp][] = [
      [undefined, /^missing X-CT-Signature header/],
      ['   ', /^missing X-CT-Signature header/],
      [`sha256=${v1At(t)}`, /old body-only format "sha256=<hex>"/],
      [` SHA256=${v1At(t)}`, /old body-only format/],
      [`t=${t},v1`, /a part without "="/],
      [`t=${t},,v1=${v1At(t)}`, /a part without "="/],
      [`v1=${v1At(t)}`, /no t=<unix seconds> timestamp/],
      [`T=${t},v1=${v1At(t)}`, /no t=<unix seconds> timestamp/],
      [`t=${t}`, /no v1= signature/],
      [`t=${t},V1=${v1At(t)}`, /no v1= signature/],
      [`t=${t},v2=${v1At(t)}`, /no v1= signature/],
      [`t=${t},v1=${v1At(t)}0`, /v1= value that is not 64 hex digits/],
      [`t=${t},v1=${v1At(t).slice(1)}g`, /v1= value that is not 64 hex digits/],
      [`t=${t},v1=${v1At(t)},v1=`, /v1= value that is not 64 hex digits/],
      [`t=${t}\u0000,v1=${v1At(t)}`, new RegExp(`t="${t}\u0000" is not a unix time`)],
      [`t=1${'0'.repeat(12)},v1=${v1At(t)}`, /t="1000000000000" is not a unix time/],
      [`t= ${t} ,v1= ${v1At(t)} `, /^$/], // whitespace around values is tolerated, as Stripe does
    ];
    for (const [header, reason] of cases) assert.match(problemOf(header) ?? '', reason, JSON.stringify(header));
  });
});

describe('governance tokens under generated values', () => {
  const key = governancePublicKey(secret);
  const run: TokenScope = { act: 'decide-run', workflowId: 'retrain/m/1', runId: 'run-a' };
  const token = issueGovernanceToken(secret, 'bob', run, 3_600_000, now);
  const check = (t: string) => checkGovernanceToken(key, t, 'bob', run, now);

  it('any string is refused with a reason, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString(), fc.string({ maxLength: 300 }), fc.constant(token.slice(0, -2))), (t) => {
        const c = check(t);
        assert.equal(c.ok, false);
        assert.ok(!c.ok && c.reason.length > 0);
      }),
      fuzzParams(),
    );
  });

  it('a valid token with one character changed, or parts added or swapped, is refused', () => {
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...'0123456789abcdef.xV'), fc.nat(3), (i, ch, how) => {
        const [v, payload, sig] = token.split('.') as [string, string, string];
        const mutated = [
          token.slice(0, i) + ch + token.slice(i + 1),
          `${token}.${sig}`,
          [v, sig, payload].join('.'),
          `${token}${ch}`,
        ][how]!;
        if (mutated === token) return;
        assert.equal(check(mutated).ok, false, mutated);
      }),
      fuzzParams(),
    );
  });

  it('a correctly signed token whose claims are hostile is refused as malformed (no nonce can name a key path)', () => {
    const seed = new Uint8Array(32).fill(7);
    const publicKey = bytesToHex(ed25519.getPublicKey(seed));
    const signed = (claims: unknown) => {
      const payload = Buffer.from(JSON.stringify(claims)).toString('hex');
      return `v2.${payload}.${bytesToHex(ed25519.sign(Buffer.from(payload), seed))}`;
    };
    const claims = { by: 'bob', scope: run, nonce: 'n'.repeat(16), exp: now + 1000 };
    assert.equal(checkGovernanceToken(publicKey, signed(claims), 'bob', run, now).ok, true);
    for (const nonce of ['../../aliases/champion', 'a/b/c/d/e/f/g/h/i', '%2e%2e%2f%2e%2e%2fx', '\uff0e'.repeat(16)]) {
      const c = checkGovernanceToken(publicKey, signed({ ...claims, nonce }), 'bob', run, now);
      assert.deepEqual(c, { ok: false, reason: 'malformed token claims' }, nonce);
    }
    fc.assert(
      fc.property(fc.anything({ maxDepth: 2 }), (junkClaims) => {
        const c = checkGovernanceToken(publicKey, signed(junkClaims ?? null), 'bob', run, now);
        assert.equal(c.ok, false);
      }),
      fuzzParams(300),
    );
  });
});
