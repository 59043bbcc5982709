// The approval desk of a retrainingPipeline run: Updates approve/reject, the quorum, signed tokens, and the
// reminder → escalation → automatic rejection timers. Validators refuse (synchronously, nothing recorded) whoever
// may not decide; distinct approvals count towards the quorum; one allowed rejection decides.
import { ApplicationFailure, condition, proxyActivities, proxyLocalActivities, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import { allowedApprovers, type ApprovalPolicy, durationMs, refusal } from '../core/approvals';
import type { AuditKind } from '../core/audit';
import { parseOrThrow } from '../core/parse';
import type { Decision } from '../core/reports';
import { ApprovalInput, type ApprovalResult, describeStatus, type RunStatus } from '../core/runStatus';
import { approveUpdate, rejectUpdate } from './definitions';
import { controlRetry } from './retryPolicies';

const control = proxyActivities<ControlActivities>({ startToCloseTimeout: '1 minute', retry: controlRetry });
const tokens = proxyLocalActivities<ControlActivities>({ startToCloseTimeout: '10 seconds' });

export interface ApprovalDeskContext {
  status: RunStatus;
  /** Who asked for the run: they may not approve it themselves. */
  requester: string;
  modelId: string;
  workflowId: string;
  audit: (kind: AuditKind, actor: string, details: Record<string, unknown>) => Promise<void>;
}

export interface ApprovalDesk {
  /** Opens the desk: until then every decision is refused as "not awaiting approval". */
  setPolicy(policy: ApprovalPolicy): void;
  /** Waits for a decision while the policy's reminder, escalation and rejection deadlines pass. */
  waitWithDeadlines(policy: ApprovalPolicy): Promise<void>;
}

export function openApprovalDesk(ctx: ApprovalDeskContext): ApprovalDesk {
  const { status, audit } = ctx;
  let policy: ApprovalPolicy | null = null;
  let escalated = false;
  const approvals = new Map<string, { by: string; comment: string; at: string }>();

  const validateDecision = (outcome: Decision['outcome']) => (raw: ApprovalInput) => {
    const args = parseOrThrow(ApprovalInput, raw, 'approval');
    const state = { stage: status.stage, decided: status.decision ? `${status.decision.outcome} by ${status.decision.by}` : null, escalated, requester: ctx.requester };
    const why = policy ? refusal(policy, state, args.by, outcome, args.token !== undefined) : `run is not awaiting approval (stage: ${status.stage})`;
    if (why) throw new Error(why);
  };
  const decide = (outcome: Decision['outcome']) => async (raw: ApprovalInput): Promise<ApprovalResult> => {
    const args = ApprovalInput.parse(raw);
    const quorum = policy?.quorum ?? 1;
    if (policy?.signedApprovals) {
      // The secret is the workers', not the workflow's: a local activity checks the token.
      const check = await tokens.verifyApprovalToken({ token: args.token ?? '', by: args.by, workflowId: ctx.workflowId });
      if (!check.valid) throw ApplicationFailure.nonRetryable(`approval token refused: ${check.reason}`, 'ApprovalTokenRefused');
    }
    if (outcome === 'rejected') {
      status.decision = { outcome, by: args.by, comment: args.comment, mode: 'manual', approvals: [...approvals.values()], evidence: [] };
      await audit('rejection', args.by, { comment: args.comment });
    } else if (!approvals.has(args.by)) {
      approvals.set(args.by, { by: args.by, comment: args.comment, at: new Date().toISOString() });
      await audit('approval', args.by, { comment: args.comment, approvals: approvals.size, quorum });
      if (approvals.size >= quorum && !status.decision) {
        status.decision = { outcome: 'approved', by: args.by, comment: args.comment, mode: 'manual', approvals: [...approvals.values()], evidence: [] };
      }
    }
    setCurrentDetails(describeStatus(status));
    return { decision: status.decision, approvals: approvals.size, quorum };
  };
  setHandler(approveUpdate, decide('approved'), { validator: validateDecision('approved') });
  setHandler(rejectUpdate, decide('rejected'), { validator: validateDecision('rejected') });

  const onDeadline = (p: ApprovalPolicy) => async (kind: 'reminder' | 'escalation' | 'timeout') => {
    if (kind === 'timeout') {
      status.decision = { outcome: 'rejected', by: 'timeout', comment: `no decision within ${p.rejectAfter}`, mode: 'timeout', approvals: [...approvals.values()], evidence: [] };
      return;
    }
    if (kind === 'escalation') {
      escalated = true;
      await audit('escalation', 'system', { to: p.escalationRoles });
    }
    const approvers = [...allowedApprovers(p, escalated)];
    await control.notifyApprovers.executeWithOptions({ startToCloseTimeout: '1 minute', retry: controlRetry, summary: `${kind}: notify ${approvers.length} approver(s)` }, [
      { kind, modelId: ctx.modelId, workflowId: ctx.workflowId, approvers, url: p.notifyUrl, message: `${ctx.modelId} run ${ctx.workflowId} is waiting for approval (${kind})`, at: new Date().toISOString() },
    ]);
    setCurrentDetails(describeStatus(status));
  };

  return {
    setPolicy(p) {
      policy = p;
    },
    waitWithDeadlines: (p) => waitWithDeadlines(p, () => status.decision !== null, onDeadline(p)),
  };
}

/** Silence has consequences: a reminder, then escalation to more approvers, then automatic rejection. */
async function waitWithDeadlines(
  policy: ApprovalPolicy,
  decided: () => boolean,
  onDeadline: (kind: 'reminder' | 'escalation' | 'timeout') => Promise<void>,
): Promise<void> {
  const start = Date.now();
  const deadlines = (
    [
      ['reminder', policy.reminderAfter],
      ['escalation', policy.escalateAfter],
      ['timeout', policy.rejectAfter],
    ] as const
  )
    .filter(([, after]) => after !== undefined)
    .map(([kind, after]) => ({ kind, at: start + durationMs(after!) }))
    .sort((a, b) => a.at - b.at);
  for (const d of deadlines) {
    if (await condition(decided, Math.max(1, d.at - Date.now()))) return;
    await onDeadline(d.kind);
    if (d.kind === 'timeout') return;
  }
}
