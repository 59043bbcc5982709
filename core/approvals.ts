// Governance rules for approvals, pure: who may decide, separation of duties, quorum, timer deadlines,
// and the auto-approve policy. The workflow applies them; update validators call `refusal` synchronously.
import { regression } from './gate';
import type { MetricName, ModelConfig } from './modelConfig';
import { InvalidInputError } from './parse';
import type { EvaluationReport, GateVerdict } from './reports';
import { DEFAULT_SLICE_METRIC } from './taskKind';

export type ApprovalPolicy = ModelConfig['approval'];

export interface ApprovalState {
  stage: string;
  decided: string | null;
  escalated: boolean;
  requester: string;
}

/** Members of the roles that may decide now (escalation adds the escalation roles). Empty: anyone may. */
export function allowedApprovers(policy: ApprovalPolicy, escalated: boolean): Set<string> {
  const roles = [...policy.approverRoles, ...(escalated ? policy.escalationRoles : [])];
  return new Set(roles.flatMap((r) => policy.roles[r] ?? []));
}

/** Why no decision may be made now, whoever decides: decided already, or not at the approval stage. */
export function stageRefusal(state: ApprovalState): string | null {
  if (state.decided) return `run already ${state.decided}`;
  if (state.stage !== 'approval') return `run is not awaiting approval (stage: ${state.stage})`;
  return null;
}

/** Whether a person holds `role`: named in the model's roles, or (verified identities) the role is one of their
 * groups from the identity provider. */
const holdsRole = (policy: ApprovalPolicy, role: string, who: string, groups: readonly string[]): boolean =>
  (policy.roles[role] ?? []).includes(who) || groups.includes(role);

/** Why this person may not make this decision: outside the approver roles, or the requester approving. */
export function personRefusal(
  policy: ApprovalPolicy,
  state: ApprovalState,
  who: string,
  groups: readonly string[],
  outcome: 'approved' | 'rejected',
): string | null {
  if (policy.approverRoles.length > 0) {
    const roles = [...policy.approverRoles, ...(state.escalated ? policy.escalationRoles : [])];
    if (!roles.some((r) => holdsRole(policy, r, who, groups)))
      return `${who} is not in an approver role of this model (${roles.join(', ')})`;
  }
  if (outcome === 'approved' && who === state.requester)
    return `separation of duties: ${who} requested this run and cannot approve it`;
  return null;
}

/** Why `by` (a self-declared name) may not make this decision now, or null when it may. */
export function refusal(
  policy: ApprovalPolicy,
  state: ApprovalState,
  by: string,
  outcome: 'approved' | 'rejected',
  hasToken = false,
): string | null {
  const stage = stageRefusal(state);
  if (stage) return stage;
  if (policy.signedApprovals && !hasToken)
    return 'this model requires a signed approval token (ct token --as <name> --run <workflowId>)';
  return personRefusal(policy, state, by, [], outcome);
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "30m", "4h", "2d" → milliseconds. */
export function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text);
  if (!m) throw new InvalidInputError('duration', [`(root): "${text}" is not a duration like 30m, 4h or 2d`]);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Whether the auto-approve policy holds, with the evidence that says why (recorded on the decision). */
export function autoApproval(
  policy: ApprovalPolicy,
  verdict: GateVerdict,
  report: EvaluationReport,
): { approve: boolean; evidence: string[] } {
  const rule = policy.autoApprove;
  if (!rule) return { approve: false, evidence: ['no autoApprove policy'] };
  const evidence: string[] = [];
  let approve = verdict.passed;
  evidence.push(`gate ${verdict.passed ? 'passed' : 'failed'}`);
  const champion = report.champion;
  for (const [metric, margin] of Object.entries(rule.minMargin) as [MetricName, number][]) {
    if (!champion) {
      evidence.push(`no champion: ${metric} margin not applicable`);
      continue;
    }
    const gain = -regression(
      metric,
      report.candidate.overall[metric] ?? Number.NaN,
      champion.overall[metric] ?? Number.NaN,
    );
    const ok = gain >= margin;
    approve &&= ok;
    evidence.push(`${metric} improves by ${gain.toFixed(4)} (needs ${margin})`);
  }
  if (rule.noSliceRegression && champion) {
    const theirs = new Map(champion.slices.map((s) => [s.value, s]));
    const metric = DEFAULT_SLICE_METRIC[report.task ?? 'binary'];
    const worse = report.candidate.slices.filter((s) => {
      const t = theirs.get(s.value);
      return t && regression(metric, s.metrics[metric] ?? Number.NaN, t.metrics[metric] ?? Number.NaN) > 0;
    });
    approve &&= worse.length === 0;
    evidence.push(
      worse.length
        ? `slices worse on ${metric}: ${worse.map((s) => s.value).join(', ')}`
        : `no slice regresses on ${metric}`,
    );
  }
  return { approve, evidence };
}
