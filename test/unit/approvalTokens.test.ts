import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issueApprovalToken, tokenProblem } from '../../activities/approvalTokens';

const secret = 'a-secret-of-sixteen+';
const now = Date.UTC(2026, 0, 1);
const token = issueApprovalToken(secret, { by: 'bob', workflowId: 'retrain/m/1', exp: now + 3_600_000 });

describe('signed approval tokens', () => {
  it('accept the approver and run they were issued for, until they expire', () => {
    assert.equal(tokenProblem(secret, token, 'bob', 'retrain/m/1', now), null);
    assert.equal(tokenProblem(secret, token, 'bob', 'retrain/m/1', now + 3_600_001), 'token expired');
  });

  it('refuse another approver, another run, another secret, a tampered payload and garbage', () => {
    assert.equal(tokenProblem(secret, token, 'mallory', 'retrain/m/1', now), 'token was issued to bob, not mallory');
    assert.equal(tokenProblem(secret, token, 'bob', 'retrain/m/2', now), 'token was issued for another run');
    assert.equal(tokenProblem('another-secret-of-16', token, 'bob', 'retrain/m/1', now), 'signature does not match');
    const [v, , mac] = token.split('.');
    const forged = `${v}.${Buffer.from(JSON.stringify({ by: 'mallory', workflowId: 'retrain/m/1', exp: now + 1e9 })).toString('base64url')}.${mac}`;
    assert.equal(tokenProblem(secret, forged, 'mallory', 'retrain/m/1', now), 'signature does not match');
    assert.equal(tokenProblem(secret, 'not-a-token', 'bob', 'retrain/m/1', now), 'malformed token');
  });
});
