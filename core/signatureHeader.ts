// The drift-alert webhook's signature header, in the style of Stripe and Standard Webhooks:
//   X-CT-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">[,v1=<hex>…]
// The timestamp is signed with the body, so a captured request is refused once it is older than the tolerance,
// whatever the receiver (or the supervisor behind it) remembers. Several v1= values let a sender sign with an old
// and a new secret while the secret rotates. Pure: parsing and the clock check; the caller computes the HMAC.

export const SIGNATURE_FORMAT = 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface SignatureHeader {
  /** Unix time in seconds at which the sender signed. */
  timestamp: number;
  /** Lower-case hex HMAC-SHA256 values, one per secret the sender signed with. */
  signatures: string[];
}

/** What the HMAC covers before the raw body bytes. */
export const signedPrefix = (timestamp: number): string => `${timestamp}.`;

export function formatSignatureHeader(timestamp: number, signatures: string[]): string {
  return [`t=${timestamp}`, ...signatures.map((s) => `v1=${s}`)].join(',');
}

/** The header's timestamp and v1 signatures, or why it cannot be used (never echoing a signature). */
export function parseSignatureHeader(
  header: string | undefined,
): { ok: true; value: SignatureHeader } | { ok: false; problem: string } {
  const fail = (problem: string) => ({
    ok: false as const,
    problem: `${problem} (expected X-CT-Signature: ${SIGNATURE_FORMAT})`,
  });
  if (header === undefined || header.trim() === '') return fail('missing X-CT-Signature header');
  if (/^\s*sha256=/i.test(header)) {
    const replayable = 'X-CT-Signature uses the old body-only format "sha256=<hex>", which can be replayed forever';
    return fail(`${replayable}; sign "<t>.<body>" instead`);
  }
  const times: string[] = [];
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (eq < 0) return fail('X-CT-Signature has a part without "="');
    if (key === 't') times.push(value);
    else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return fail('X-CT-Signature has a v1= value that is not 64 hex digits');
      signatures.push(value.toLowerCase());
    }
    // Other keys (a future v2=) are ignored, so senders can add schemes before every receiver knows them.
  }
  if (times.length === 0) return fail('X-CT-Signature has no t=<unix seconds> timestamp');
  if (times.length > 1) return fail('X-CT-Signature has more than one t=');
  const [t] = times as [string];
  if (!/^\d{1,12}$/.test(t)) return fail(`X-CT-Signature t="${t.slice(0, 20)}" is not a unix time in seconds`);
  if (signatures.length === 0) return fail('X-CT-Signature has no v1= signature');
  return { ok: true, value: { timestamp: Number(t), signatures } };
}

/** Null when `timestamp` (unix seconds) lies within `toleranceSeconds` of `nowMs`, else why not. */
export function timestampProblem(timestamp: number, nowMs: number, toleranceSeconds: number): string | null {
  const age = Math.floor(nowMs / 1000) - timestamp;
  const stamp = `signature timestamp t=${timestamp}`;
  const outside = `outside the ${toleranceSeconds} s tolerance`;
  if (age > toleranceSeconds) {
    return `${stamp} is ${age} s old, ${outside}: a replayed or delayed request (sign each request when sending it)`;
  }
  if (-age > toleranceSeconds) return `${stamp} is ${-age} s in the future, ${outside} (check the sender's clock)`;
  return null;
}
