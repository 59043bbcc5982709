// The workflows' view of governance: the public half of the token key only (no secret enters history), and who
// acted, verified here, in a local activity, so the provider's keys and the verification stay out of history.
import type { ActivityDeps } from './context';
import { governancePublicKey } from '../adapters/governanceKeys';
import type { ActorCheck } from '../core/identity';
import type { IdentityMode } from '../core/appConfig';

export function createGovernanceActivities(deps: ActivityDeps) {
  const mode: IdentityMode = deps.identity?.mode ?? 'dev';
  /** The public key a workflow checks tokens with (null when this worker has no secret: signed acts are refused),
   * and how identities are established. */
  async function governanceVerifyingKey(): Promise<{ publicKey: string | null; identityMode: IdentityMode }> {
    return { publicKey: deps.approvalSecret ? governancePublicKey(deps.approvalSecret) : null, identityMode: mode };
  }
  /** Who acted: in dev mode the declared name (unverified); in oidc mode the verified subject of `idToken`. */
  async function verifyActor(input: { claimedBy: string; idToken?: string }): Promise<ActorCheck> {
    if (mode === 'dev') return { ok: true, actor: { subject: input.claimedBy, verified: false, groups: [] } };
    if (!input.idToken)
      return { ok: false, reason: 'no identity token: this deployment verifies people (sign in with ct login)' };
    return deps.identity!.verify(input.idToken);
  }
  return { governanceVerifyingKey, verifyActor };
}
