// Verification of OpenID Connect tokens with jose against the issuer's published keys (JWKS): signature, issuer,
// audience, expiry and not-before with a clock-skew tolerance. Refusals name the reason; the token is never logged.
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import type { IdentityConfig } from '../core/appConfig';
import type { ActorCheck } from '../core/identity';

type OidcConfig = NonNullable<IdentityConfig['oidc']>;

interface Discovery {
  issuer: string;
  jwks_uri: string;
  authorization_endpoint: string;
  token_endpoint: string;
}

/** The provider's metadata (`/.well-known/openid-configuration`); its issuer must equal the configured one. */
export async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`cannot reach the OpenID Connect issuer at ${url}: ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok) throw new Error(`OpenID Connect discovery at ${url} answered HTTP ${res.status}`);
  const meta = (await res.json()) as Discovery;
  if (normalise(meta.issuer) !== normalise(issuer))
    throw new Error(`the provider at ${url} calls itself ${meta.issuer}, not the configured issuer ${issuer}`);
  return meta;
}

const normalise = (u: string) => u.replace(/\/$/, '');

/** The token's id for records: its jti, else a digest (a token is a credential; its digest is not). */
export function tokenId(token: string, claims: JWTPayload): string {
  return typeof claims.jti === 'string' && claims.jti
    ? claims.jti
    : `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 32)}`;
}

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export class OidcVerifier {
  private keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  constructor(private readonly config: OidcConfig) {}

  private jwks() {
    this.keys ??= discover(this.config.issuer).then((m) => createRemoteJWKSet(new URL(m.jwks_uri)));
    this.keys.catch(() => (this.keys = undefined));
    return this.keys;
  }

  /** The verified person behind `token`, or why it is refused. `now` only for tests of time-bound claims. */
  async verify(token: string, now?: Date): Promise<ActorCheck> {
    const { issuer, clientId, rolesClaim, subjectClaim, clockSkewSeconds } = this.config;
    const audience = this.config.audience ?? clientId;
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return { ok: false, reason: 'malformed token (not a JWT)' };
    }
    if (typeof unverified.iss !== 'string' || normalise(unverified.iss) !== normalise(issuer))
      return { ok: false, reason: `token was issued by ${String(unverified.iss)}, not by ${issuer}` };
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, await this.jwks(), {
        issuer: [issuer, normalise(issuer)],
        audience,
        clockTolerance: clockSkewSeconds,
        requiredClaims: ['exp', 'iat', 'sub'],
        ...(now ? { currentDate: now } : {}),
      }));
    } catch (err) {
      // The issuer's keys out of reach is an outage (the activity retries), not a refusal.
      if (!(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout) throw err;
      return { ok: false, reason: refusalReason(err, unverified, audience) };
    }
    const subject = stringsOf(claims[subjectClaim])[0];
    if (!subject) return { ok: false, reason: `token has no ${subjectClaim} claim to name the person` };
    return {
      ok: true,
      actor: {
        subject,
        verified: true,
        issuer,
        tokenId: tokenId(token, claims),
        groups: stringsOf(claims[rolesClaim]),
      },
    };
  }
}

function refusalReason(err: unknown, claims: JWTPayload, audience: string): string {
  if (err instanceof errors.JWTExpired) return `token expired at ${new Date(Number(claims.exp) * 1000).toISOString()}`;
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud')
      return `token is for audience ${stringsOf(claims.aud).join(', ') || '(none)'}, not ${audience}`;
    if (err.claim === 'nbf') return `token not valid before ${new Date(Number(claims.nbf) * 1000).toISOString()}`;
    return `token claim ${err.claim} refused: ${err.reason}`;
  }
  if (err instanceof errors.JWKSNoMatchingKey)
    return 'token is signed with a key the issuer does not publish (forged, or from another provider)';
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return "token signature does not verify against the issuer's keys (forged or altered)";
  return `token refused: ${(err as Error).message}`;
}
