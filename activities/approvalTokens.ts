// Signed approvals: an HMAC token binds an approver's identity to one run, so identity cannot be typed in freely.
// Format: v1.<base64url JSON {by, workflowId, exp}>.<hex HMAC-SHA256 of the middle part>. The secret lives only
// with the token issuer and the workers (CT_APPROVAL_SECRET), never in workflow history.
import type { ActivityDeps } from './context';
import { hmacSha256Hex, sameSignature } from './hmac';

interface TokenClaims {
  by: string;
  workflowId: string;
  exp: number;
}

export function issueApprovalToken(secret: string, claims: TokenClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `v1.${payload}.${hmacSha256Hex(secret, payload)}`;
}

/** Null when the token is valid for `by` on `workflowId` at `now`, else why not. */
export function tokenProblem(secret: string, token: string, by: string, workflowId: string, now = Date.now()): string | null {
  const [version, payload, mac] = token.split('.');
  if (version !== 'v1' || !payload || !mac) return 'malformed token';
  if (!sameSignature(Buffer.from(mac, 'hex'), Buffer.from(hmacSha256Hex(secret, payload), 'hex'))) return 'signature does not match';
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as TokenClaims;
  } catch {
    return 'malformed token';
  }
  if (claims.by !== by) return `token was issued to ${claims.by}, not ${by}`;
  if (claims.workflowId !== workflowId) return 'token was issued for another run';
  if (claims.exp < now) return 'token expired';
  return null;
}

export function createApprovalTokenActivities(deps: ActivityDeps) {
  async function verifyApprovalToken(input: { token: string; by: string; workflowId: string }): Promise<{ valid: boolean; reason: string }> {
    if (!deps.approvalSecret) return { valid: false, reason: 'this worker has no approval secret (CT_APPROVAL_SECRET)' };
    const problem = tokenProblem(deps.approvalSecret, input.token, input.by, input.workflowId);
    return { valid: problem === null, reason: problem ?? 'ok' };
  }
  return { verifyApprovalToken };
}
