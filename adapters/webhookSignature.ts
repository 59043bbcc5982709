// Signing and checking webhook bodies (drift alerts in, notifications out) with the X-CT-Signature scheme of
// core/signatureHeader.ts: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">.
import { hmacSha256Hex, sameSignature } from './hmac';
import { formatSignatureHeader, parseSignatureHeader, signedPrefix, timestampProblem } from '../core/signatureHeader';

export const SIGNATURE_HEADER = 'x-ct-signature';

const signedContent = (timestamp: number, body: string | Uint8Array): Buffer =>
  Buffer.concat([Buffer.from(signedPrefix(timestamp)), Buffer.from(body)]);

/**
 * The X-CT-Signature value for sending `body` at time `nowMs` (default: now).
 * Pass several secrets while rotating: the receiver accepts the request if any one of them is its own.
 */
export function signWebhookBody(secret: string | string[], body: string | Uint8Array, nowMs = Date.now()): string {
  const timestamp = Math.floor(nowMs / 1000);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  return formatSignatureHeader(
    timestamp,
    secrets.map((s) => hmacSha256Hex(s, signedContent(timestamp, body))),
  );
}

/** Null when `header` signs `body` with `secret` within `toleranceSeconds` of `nowMs`, else why not. */
export function signatureProblem(
  secret: string,
  body: Uint8Array,
  header: string | undefined,
  nowMs: number,
  toleranceSeconds: number,
): string | null {
  const parsed = parseSignatureHeader(header);
  if (!parsed.ok) return parsed.problem;
  const { timestamp, signatures } = parsed.value;
  const expected = Buffer.from(hmacSha256Hex(secret, signedContent(timestamp, body)), 'hex');
  if (!signatures.some((s) => sameSignature(Buffer.from(s, 'hex'), expected))) {
    return 'X-CT-Signature does not match: sign "<t>.<raw body>" with the webhook secret (HMAC-SHA256, hex)';
  }
  return timestampProblem(timestamp, nowMs, toleranceSeconds);
}
