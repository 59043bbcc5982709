// The keys of signed governance tokens, derived from the one shared secret (CT_APPROVAL_SECRET): whoever holds it
// issues tokens (ct token); the workers hand workflows only the public key, which is all that enters history.
import { randomUUID } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from '@noble/curves/utils.js';
import { signGovernanceToken, type TokenScope } from '../core/governanceTokens';
import { hmacSha256Hex } from './hmac';

// Domain separation: the signing key is not the secret itself, so the secret can keep other uses.
const signingSeed = (secret: string): Uint8Array =>
  hexToBytes(hmacSha256Hex(secret, 'ct governance token signing key v2'));

export const governancePublicKey = (secret: string): string => bytesToHex(ed25519.getPublicKey(signingSeed(secret)));

/** A single-use token for `by` to perform `scope`, valid for `ttlMs`. */
export function issueGovernanceToken(
  secret: string,
  by: string,
  scope: TokenScope,
  ttlMs: number,
  now = Date.now(),
): string {
  return signGovernanceToken(signingSeed(secret), { by, scope, nonce: randomUUID(), exp: now + ttlMs });
}
