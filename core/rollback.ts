// Governance of `ct rollback`, pure: who may move the champion back, to which versions, and when an override by
// an escalation role is allowed. The rollback activity gathers the facts and applies this rule.
import { z } from 'zod';
import type { ApprovalPolicy } from './approvals';
import { ModelId } from './modelConfig';
import type { Decision } from './reports';

export const RollbackInput = z
  .object({
    modelId: ModelId,
    toVersion: z.number().int().min(1, 'versions start at 1'),
    by: z.string().trim().min(1, 'name who rolls back'),
    reason: z.string().default(''),
    /** Roll back to a version that was never approved (escalation roles only, where the model allows it). */
    override: z.boolean().default(false),
    token: z
      .string()
      .optional()
      .describe('signed token (ct token --rollback), when the model requires signed approvals'),
    idToken: z
      .string()
      .optional()
      .describe('OpenID Connect ID token of who rolls back (ct login); required where identities are verified'),
  })
  .strict();
export type RollbackInput = z.infer<typeof RollbackInput>;
export type RollbackInputJson = z.input<typeof RollbackInput>;

export const RollbackResult = z.object({
  modelId: z.string(),
  from: z.number().int().nullable(),
  to: z.number().int(),
  by: z.string(),
  override: z.boolean(),
  tracking: z
    .string()
    .optional()
    .describe('whether MLflow\'s alias champion followed (README "Experiment tracking (MLflow)"), or why not'),
});
export type RollbackResult = z.infer<typeof RollbackResult>;

export interface RollbackFacts {
  policy: ApprovalPolicy;
  versions: number[];
  champion: number | null;
  /** The target version's card: its gate verdict and decision (null: still pending). */
  target: { gatePassed: boolean; decision: Decision | null } | null;
  /** Why the signed token does not hold (null: it holds, or none is needed). */
  tokenProblem: string | null;
  /** The verified groups of who rolls back (identity mode oidc): a role named among them is held. */
  groups?: readonly string[];
}

/** Whether `who` holds one of `roles`: listed in the model's roles, or (verified) one of their groups. */
const holdsOne = (policy: ApprovalPolicy, roles: readonly string[], who: string, groups: readonly string[]) =>
  roles.some((r) => (policy.roles[r] ?? []).includes(who) || groups.includes(r));

/** Why the target version may not become champion again without an override, or null when it may. */
function ineligibility(version: number, target: NonNullable<RollbackFacts['target']>): string | null {
  if (!target.gatePassed) return `v${version} failed the gate`;
  const d = target.decision;
  if (!d) return `v${version} was never approved (its decision is still pending)`;
  if (d.outcome !== 'approved')
    return `v${version} was rejected by ${d.by} (${d.mode})${d.comment ? `: ${d.comment}` : ''}`;
  return null;
}

/** Why this rollback is refused, or null when it may go ahead. */
export function rollbackRefusal(req: RollbackInput, facts: RollbackFacts): string | null {
  const { policy } = facts;
  const v = req.toVersion;
  if (!facts.versions.includes(v) || !facts.target)
    return `${req.modelId} has no version ${v} (versions: ${facts.versions.join(', ') || 'none'})`;
  if (facts.champion === v) return `v${v} is already the champion of ${req.modelId}`;
  const roles = policy.rollback.roles.length ? policy.rollback.roles : policy.approverRoles;
  if (roles.length === 0)
    return `${req.modelId} names no role that may roll back: set approval.rollback.roles (or approval.approverRoles)`;
  const notEligible = ineligibility(v, facts.target);
  if (req.override) {
    if (!policy.rollback.allowOverride)
      return `overrides are not enabled for ${req.modelId} (approval.rollback.allowOverride)`;
    if (!holdsOne(policy, policy.escalationRoles, req.by, facts.groups ?? []))
      return `${req.by} is not in an escalation role of ${req.modelId} (${policy.escalationRoles.join(', ')}): only they may override`;
    if (!req.reason.trim()) return 'an override needs a reason (--reason)';
  } else {
    if (!holdsOne(policy, roles, req.by, facts.groups ?? []))
      return `${req.by} is not in a role that may roll back ${req.modelId} (${roles.join(', ')})`;
    if (notEligible) return `${notEligible}; only an approved version can become champion again`;
  }
  if (policy.signedApprovals && !req.token)
    return `${req.modelId} requires a signed token: ct token --as ${req.by} --rollback ${req.modelId} --to ${v}`;
  if (facts.tokenProblem) return `token refused: ${facts.tokenProblem}`;
  return null;
}
