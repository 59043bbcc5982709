// The workflows' view of the governance keys: the public half only, so no secret enters history.
import type { ActivityDeps } from './context';
import { governancePublicKey } from '../adapters/governanceKeys';

export function createGovernanceActivities(deps: ActivityDeps) {
  /** The public key a workflow checks tokens with; null when this worker has no secret (signed acts are refused). */
  async function governanceVerifyingKey(): Promise<{ publicKey: string | null }> {
    return { publicKey: deps.approvalSecret ? governancePublicKey(deps.approvalSecret) : null };
  }
  return { governanceVerifyingKey };
}
