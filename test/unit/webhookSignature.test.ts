// The webhook's signature header: parsing, the tolerance window, and signing with the sender's helper.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSignatureHeader, timestampProblem } from '../../core/signatureHeader';
import { signatureProblem, signWebhookBody } from '../../adapters/webhookSignature';

const secret = 'a-secret-of-sixteen+';
const now = Date.UTC(2026, 0, 1, 12);
const body = '{"alertId":"a-1","modelId":"m","datasetDrift":true}';
const check = (header: string | undefined, at = now, tolerance = 300) =>
  signatureProblem(secret, Buffer.from(body), header, at, tolerance);

describe('drift-alert signatures', () => {
  it('sign t=<unix seconds>,v1=<hex HMAC of "<t>.<body>"> and accept it within the tolerance', () => {
    const header = signWebhookBody(secret, body, now);
    assert.match(header, /^t=1767268800,v1=[0-9a-f]{64}$/);
    assert.equal(check(header), null);
    assert.equal(check(header, now + 300_000), null);
    assert.equal(check(header, now - 300_000), null, 'a sender clock slightly ahead is tolerated');
  });

  it('refuse a stale or future timestamp, another body, another secret, a tampered timestamp', () => {
    const header = signWebhookBody(secret, body, now);
    assert.match(check(header, now + 301_000)!, /is 301 s old, outside the 300 s tolerance/);
    assert.match(check(header, now - 301_000)!, /is 301 s in the future/);
    assert.match(check(header, now + 2_000, 1)!, /is 2 s old, outside the 1 s tolerance/);
    assert.match(signatureProblem(secret, Buffer.from(`${body} `), header, now, 300)!, /does not match/);
    assert.match(check(signWebhookBody('another-secret-of-16', body, now))!, /does not match/);
    assert.match(check(header.replace('t=1767268800', 't=1767268900'), now + 100_000)!, /does not match/);
  });

  it('accept any one of several v1 signatures (secret rotation)', () => {
    assert.equal(check(signWebhookBody(['the-old-secret-of-16', secret], body, now)), null);
    assert.match(check(signWebhookBody(['the-old-secret-of-16', 'yet-another-secret'], body, now))!, /does not match/);
  });

  it('name what is wrong with a header, never echoing a signature', () => {
    const problem = (h: string | undefined) => {
      const r = parseSignatureHeader(h);
      assert.equal(r.ok, false);
      return r.ok ? '' : r.problem;
    };
    const v1 = `v1=${'ab'.repeat(32)}`;
    assert.match(problem(undefined), /^missing X-CT-Signature header \(expected X-CT-Signature: t=<unix seconds>,v1=/);
    assert.match(problem(`sha256=${'ab'.repeat(32)}`), /old body-only format/);
    assert.match(problem(v1), /no t=<unix seconds> timestamp/);
    assert.match(problem(`t=1,t=2,${v1}`), /more than one t=/);
    assert.match(problem(`t=-5,${v1}`), /t="-5" is not a unix time in seconds/);
    assert.match(problem('t=1'), /no v1= signature/);
    assert.doesNotMatch(problem(`t=1,v1=${'cd'.repeat(31)}`), /cdcd/);
    assert.match(problem('t=1,garbage'), /a part without "="/);
    const ok = parseSignatureHeader(`t=1767268800, ${v1.toUpperCase().replace('V1', 'v1')}, v2=future-scheme`);
    assert.deepEqual(ok, { ok: true, value: { timestamp: 1767268800, signatures: ['ab'.repeat(32)] } });
  });

  it('the tolerance bound itself is accepted, one second more is not', () => {
    assert.equal(timestampProblem(100, 100_000, 0), null);
    assert.match(timestampProblem(100, 101_000, 0)!, /1 s old/);
  });
});
