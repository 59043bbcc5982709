// HMAC-SHA256 signatures and their constant-time check: signed approval tokens and signed drift alerts.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const hmacSha256Hex = (secret: string, data: string | Uint8Array): string =>
  createHmac('sha256', secret).update(data).digest('hex');

/** Whether `given` equals `expected`, in time that does not depend on where they differ. */
export function sameSignature(given: Uint8Array, expected: Uint8Array): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
