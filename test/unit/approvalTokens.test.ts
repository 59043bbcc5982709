import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { governancePublicKey, issueGovernanceToken } from '../../adapters/governanceKeys';
import { checkGovernanceToken, type TokenScope } from '../../core/governanceTokens';

const secret = 'a-secret-of-sixteen+';
const key = governancePublicKey(secret);
const now = Date.UTC(2026, 0, 1);
const run: TokenScope = { act: 'decide-run', workflowId: 'retrain/m/1', runId: 'run-a' };
const token = issueGovernanceToken(secret, 'bob', run, 3_600_000, now);
const reason = (t: string, by: string, scope: TokenScope, at = now) => {
  const c = checkGovernanceToken(key, t, by, scope, at);
  return c.ok ? null : c.reason;
};

describe('signed governance tokens', () => {
  it('accept the person and the act they were issued for, until they expire, each with its own nonce', () => {
    assert.equal(reason(token, 'bob', run), null);
    assert.match(reason(token, 'bob', run, now + 3_600_001)!, /^token expired at 2026-01-01T01:00:00.000Z/);
    const again = issueGovernanceToken(secret, 'bob', run, 3_600_000, now);
    const nonce = (t: string) =>
      (checkGovernanceToken(key, t, 'bob', run, now) as { claims: { nonce: string } }).claims.nonce;
    assert.notEqual(nonce(again), nonce(token));
  });

  it('refuse another person, another run id of the same workflow id, another act, another secret and garbage', () => {
    assert.equal(reason(token, 'mallory', run), 'token was issued to bob, not mallory');
    assert.match(
      reason(token, 'bob', { ...run, runId: 'run-b' })!,
      /issued for run retrain\/m\/1 \(run id run-a\), not run retrain\/m\/1 \(run id run-b\)/,
    );
    assert.match(reason(token, 'bob', { act: 'rollback', modelId: 'm', version: 1 })!, /not rollback of m to v1/);
    const forged = issueGovernanceToken('another-secret-of-16', 'bob', run, 3_600_000, now);
    assert.match(reason(forged, 'bob', run)!, /signature does not match/);
    const [v, , sig] = token.split('.');
    const tampered = `${v}.${Buffer.from(JSON.stringify({ by: 'mallory', scope: run, nonce: 'x'.repeat(16), exp: now + 1e9 })).toString('hex')}.${sig}`;
    assert.match(reason(tampered, 'mallory', run)!, /signature does not match/);
    assert.equal(reason('not-a-token', 'bob', run), 'malformed token');
    assert.equal(reason('v2.zz.zz', 'bob', run), 'malformed token');
    assert.match(reason('v1.e30.abcd', 'bob', run)!, /v1 tokens .* are no longer accepted/);
  });
});
