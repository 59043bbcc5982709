// Who acted: the person behind a decision or request, as the workers established it. In `dev` mode a name is
// self-declared (recorded as unverified); in `oidc` mode it is the verified subject of an OpenID Connect token.
import { z } from 'zod';

export const VerifiedActor = z
  .object({
    subject: z.string().min(1),
    verified: z.boolean(),
    /** The token's issuer and id (jti, or a digest of the token): what records carry, never the token. */
    issuer: z.string().optional(),
    tokenId: z.string().optional(),
    groups: z.array(z.string()).default([]),
  })
  .strict();
export type VerifiedActor = z.infer<typeof VerifiedActor>;

/** A verification's outcome, as a local activity returns it (a refusal is an answer, not an activity failure). */
export type ActorCheck = { ok: true; actor: VerifiedActor } | { ok: false; reason: string };

/** What identifies an actor in audit records and decisions. */
export function actorRecord(actor: VerifiedActor): Record<string, unknown> {
  return actor.verified
    ? { subject: actor.subject, verified: true, issuer: actor.issuer, tokenId: actor.tokenId, groups: actor.groups }
    : { subject: actor.subject, verified: false };
}
