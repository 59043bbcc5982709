// Signed governance tokens: proof that a named person may perform one act (decide one run, roll a model back to one
// version). Ed25519, so a workflow can check a token synchronously in its Update validator with the public key
// alone — a refused token never becomes an accepted Update — and no secret ever enters workflow history.
// Format: v2.<hex of the claims' JSON>.<hex Ed25519 signature of that hex text>. Pure: no Node APIs.
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from '@noble/curves/utils.js';
import { z } from 'zod';
import { parseOrThrow } from './parse';

export const TokenScope = z.discriminatedUnion('act', [
  z.object({ act: z.literal('decide-run'), workflowId: z.string().min(1), runId: z.string().min(1) }).strict(),
  z.object({ act: z.literal('rollback'), modelId: z.string().min(1), version: z.number().int().min(1) }).strict(),
]);
export type TokenScope = z.infer<typeof TokenScope>;

export const TokenClaims = z
  .object({
    by: z.string().min(1),
    scope: TokenScope,
    /** Unique per token: an act records the nonce it consumed (an object key segment), so a token works once. */
    nonce: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, '16-128 characters of A-Z, a-z, 0-9, "_" and "-"'),
    /** Expiry, milliseconds since the epoch. */
    exp: z.number().int(),
  })
  .strict();
export type TokenClaims = z.infer<typeof TokenClaims>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function signGovernanceToken(privateKey: Uint8Array, claims: TokenClaims): string {
  const payload = bytesToHex(encoder.encode(JSON.stringify(parseOrThrow(TokenClaims, claims, 'token claims'))));
  return `v2.${payload}.${bytesToHex(ed25519.sign(encoder.encode(payload), privateKey))}`;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

const sameScope = (a: TokenScope, b: TokenScope): boolean => JSON.stringify(a) === JSON.stringify(b);

function describeScope(s: TokenScope): string {
  return s.act === 'decide-run'
    ? `run ${s.workflowId} (run id ${s.runId})`
    : `rollback of ${s.modelId} to v${s.version}`;
}

/** Whether `token` lets `by` perform `scope` at `now`; the reason when it does not. */
export function checkGovernanceToken(
  publicKeyHex: string,
  token: string,
  by: string,
  scope: TokenScope,
  now: number,
): TokenCheck {
  const [version, payload, signature] = token.split('.');
  if (version === 'v1')
    return {
      ok: false,
      reason: 'v1 tokens (bound to a workflow id only) are no longer accepted: issue a new one with ct token',
    };
  if (version !== 'v2' || !payload || !signature || token.split('.').length !== 3)
    return { ok: false, reason: 'malformed token' };
  let valid: boolean;
  try {
    valid = ed25519.verify(hexToBytes(signature), encoder.encode(payload), hexToBytes(publicKeyHex));
  } catch {
    return { ok: false, reason: 'malformed token' };
  }
  if (!valid) return { ok: false, reason: 'signature does not match (issued with another secret, or altered)' };
  let claims: TokenClaims;
  try {
    claims = TokenClaims.parse(JSON.parse(decoder.decode(hexToBytes(payload))));
  } catch {
    return { ok: false, reason: 'malformed token claims' };
  }
  if (claims.by !== by) return { ok: false, reason: `token was issued to ${claims.by}, not ${by}` };
  if (!sameScope(claims.scope, scope))
    return { ok: false, reason: `token was issued for ${describeScope(claims.scope)}, not ${describeScope(scope)}` };
  if (claims.exp < now) return { ok: false, reason: `token expired at ${new Date(claims.exp).toISOString()}` };
  return { ok: true, claims };
}
