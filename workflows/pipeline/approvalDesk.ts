// The approval desk of a retrainingPipeline run: Updates approve/reject, the quorum, signed tokens, and the
// reminder → escalation → automatic rejection timers. Validators refuse (synchronously, nothing recorded) whoever
// may not decide; distinct approvals count towards the quorum; one allowed rejection decides.
import { ApplicationFailure, condition, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { IdentityMode } from '../../core/appConfig';
import {
  allowedApprovers,
  type ApprovalPolicy,
  autoApproval,
  durationMs,
  personRefusal,
  refusal,
  stageRefusal,
} from '../../core/approvals';
import { actorRecord, type VerifiedActor } from '../../core/identity';
import { checkGovernanceToken, type TokenScope } from '../../core/governanceTokens';
import type { Decision, EvaluationReport, GateVerdict } from '../../core/reports';
import { ApprovalInput, type ApprovalResult, describeStatus } from '../../core/runStatus';
import { approveUpdate, rejectUpdate } from '../definitions';
import { parseWorkflowInput, refuse } from '../inputs';
import type { Notifier } from '../notifier';
import { governanceKey, identity } from './proxies';
import type { RunBook } from './runBook';

export interface ApprovalDesk {
  /**
   * Sets the policy, learns how the workers establish identities (and, for signed approvals, the key tokens are
   * checked with), long before any decision; settles who requested the run. With verified identities that is the
   * subject of the starter's ID token, or the name the model's supervisor verified; the run fails if neither holds.
   */
  open(policy: ApprovalPolicy, start: RunStart): Promise<VerifiedActor>;
  /** The decision on a gated candidate: by the policy itself, or by people within the policy's deadlines. */
  decide(verdict: GateVerdict, evaluation: EvaluationReport): Promise<Decision>;
}

/**
 * The desk of a run: decisions are refused (as "not awaiting approval") until its approval stage. People hear of a
 * wait through `notifier`: when it starts, at the reminder and at the escalation.
 */
/** Who started a run: the name it declares, the starter's ID token, and whether its parent is the model's supervisor. */
export interface RunStart {
  requestedBy: string;
  idToken?: string;
  startedBySupervisor: boolean;
}

export function openApprovalDesk(book: RunBook, notifier: Notifier): ApprovalDesk {
  const { status, audit } = book;
  const ctx = { requester: 'unknown', modelId: status.modelId, workflowId: status.workflowId, runId: status.runId };
  let policy: ApprovalPolicy | null = null;
  let escalated = false;
  const approvals = new Map<string, { by: string; comment: string; at: string }>();

  // Tokens are checked here, in the validator, with the public key alone: a refused token is a rejected Update,
  // never an accepted one, and each token decides once (its nonce is spent).
  let verifyingKey: string | null = null;
  let identityMode: IdentityMode = 'dev';
  const spentNonces = new Set<string>();
  /** OIDC tokens that made a decision on this run: one sent again is a replay. */
  const spentTokenIds = new Set<string>();
  const scope: TokenScope = { act: 'decide-run', workflowId: ctx.workflowId, runId: ctx.runId };
  /** The token's verdict: why it is refused (null: it holds, or none is needed) and the nonce it spends. */
  const tokenCheck = (args: ApprovalInput & { by: string }): { refusal: string | null; nonce: string | null } => {
    if (!policy?.signedApprovals || args.token === undefined) return { refusal: null, nonce: null };
    if (verifyingKey === null)
      return {
        refusal: 'approval token refused: the workers have no approval secret (CT_APPROVAL_SECRET)',
        nonce: null,
      };
    const check = checkGovernanceToken(verifyingKey, args.token, args.by, scope, Date.now());
    if (!check.ok) return { refusal: `approval token refused: ${check.reason}`, nonce: null };
    if (spentNonces.has(check.claims.nonce))
      return { refusal: 'approval token refused: this token was already used on this run', nonce: null };
    return { refusal: null, nonce: check.claims.nonce };
  };

  const approvalState = () => ({
    stage: status.stage,
    decided: status.decision ? `${status.decision.outcome} by ${status.decision.by}` : null,
    escalated,
    requester: ctx.requester,
  });
  const validateDecision = (outcome: Decision['outcome']) => (raw: ApprovalInput) => {
    const args = parseWorkflowInput(ApprovalInput, raw, 'approval');
    const state = approvalState();
    let why: string | null;
    if (!policy) why = `run is not awaiting approval (stage: ${status.stage})`;
    else if (identityMode === 'oidc')
      // Who decides is known only once the token is verified (in the handler); here only what needs no identity.
      why =
        stageRefusal(state) ??
        (args.idToken === undefined
          ? 'this deployment verifies who decides: sign in with `ct login`, then decide again'
          : null);
    else why = refusal(policy, state, args.by, outcome, args.token !== undefined) ?? tokenCheck(args).refusal;
    if (why) refuse(why, 'ApprovalRefused');
  };
  /** The verified person behind an oidc decision, or the refusal — audited, and the Update fails with it. */
  const verifiedDecider = async (args: ApprovalInput, outcome: Decision['outcome']): Promise<VerifiedActor> => {
    const refused = async (reason: string, details: Record<string, unknown> = {}): Promise<never> => {
      await audit('decision-refused', 'unverified', { outcome, reason, ...details });
      throw ApplicationFailure.nonRetryable(
        `${outcome === 'approved' ? 'approval' : 'rejection'} refused: ${reason}`,
        'ApprovalRefused',
      );
    };
    const check = await identity.verifyActor.executeWithOptions({ summary: 'verify who decides' }, [
      { claimedBy: args.by, idToken: args.idToken },
    ]);
    if (!check.ok) return refused(check.reason, { claimedBy: args.by });
    const { actor } = check;
    const who = { identity: actorRecord(actor) };
    if (actor.tokenId && spentTokenIds.has(actor.tokenId))
      return refused('this token already made a decision on this run (replayed)', who);
    const why =
      stageRefusal(approvalState()) ?? personRefusal(policy!, approvalState(), actor.subject, actor.groups, outcome);
    if (why) return refused(why, who);
    if (actor.tokenId) spentTokenIds.add(actor.tokenId);
    return actor;
  };
  const decide =
    (outcome: Decision['outcome']) =>
    async (raw: ApprovalInput): Promise<ApprovalResult> => {
      const parsed = ApprovalInput.parse(raw);
      const actor: VerifiedActor =
        identityMode === 'oidc'
          ? await verifiedDecider(parsed, outcome)
          : { subject: parsed.by, verified: false, groups: [] };
      const args = { ...parsed, by: actor.subject };
      const who = { identity: actorRecord(actor) };
      const quorum = policy?.quorum ?? 1;
      const { nonce } = identityMode === 'oidc' ? { nonce: null } : tokenCheck(args);
      if (nonce) spentNonces.add(nonce);
      if (outcome === 'rejected') {
        status.decision = {
          outcome,
          by: args.by,
          comment: args.comment,
          mode: 'manual',
          approvals: [...approvals.values()],
          evidence: [],
        };
        await audit('rejection', args.by, { comment: args.comment, ...who });
      } else if (!approvals.has(args.by)) {
        approvals.set(args.by, { by: args.by, comment: args.comment, at: new Date().toISOString() });
        await audit('approval', args.by, { comment: args.comment, approvals: approvals.size, quorum, ...who });
        if (approvals.size >= quorum && !status.decision) {
          status.decision = {
            outcome: 'approved',
            by: args.by,
            comment: args.comment,
            mode: 'manual',
            approvals: [...approvals.values()],
            evidence: [],
          };
        }
      }
      if (status.approval) status.approval.approvals = [...approvals.keys()];
      setCurrentDetails(describeStatus(status));
      return { decision: status.decision, approvals: approvals.size, quorum };
    };
  setHandler(approveUpdate, decide('approved'), { validator: validateDecision('approved') });
  setHandler(rejectUpdate, decide('rejected'), { validator: validateDecision('rejected') });

  const onDeadline = (p: ApprovalPolicy) => async (kind: 'reminder' | 'escalation' | 'timeout') => {
    if (kind === 'timeout') {
      status.decision = {
        outcome: 'rejected',
        by: 'timeout',
        comment: `no decision within ${p.rejectAfter}`,
        mode: 'timeout',
        approvals: [...approvals.values()],
        evidence: [],
      };
      return;
    }
    if (kind === 'escalation') {
      escalated = true;
      await audit('escalation', 'system', { to: p.escalationRoles });
    }
    const approvers = [...allowedApprovers(p, escalated)];
    if (status.approval) Object.assign(status.approval, { approvers, escalated });
    askPeople(kind, approvers);
    setCurrentDetails(describeStatus(status));
  };

  /** Tells who may decide now that the run waits for them (`kind`: why now). */
  const askPeople = (kind: 'approval-requested' | 'reminder' | 'escalation', approvers: string[]) => {
    const why = kind === 'approval-requested' ? 'waits for approval' : `still waits for approval (${kind})`;
    const version = status.registered?.version;
    notifier.send(kind, {
      modelId: ctx.modelId,
      message: `${ctx.modelId} run ${ctx.workflowId} ${why}`,
      approvers,
      facts: {
        ...(version === undefined ? {} : { version: String(version) }),
        quorum: `${approvals.size} of ${policy?.quorum ?? 1}`,
        requestedBy: ctx.requester,
      },
    });
  };

  const byPolicy = (mode: 'auto' | 'policy', comment: string, evidence: string[]): Decision => ({
    outcome: 'approved',
    by: 'policy',
    comment,
    mode,
    approvals: [],
    evidence,
  });

  return {
    async open(p, start) {
      policy = p;
      const governance = await governanceKey.governanceVerifyingKey();
      verifyingKey = p.mode !== 'auto' && p.signedApprovals ? governance.publicKey : null;
      identityMode = governance.identityMode;
      let requester: VerifiedActor = { subject: start.requestedBy, verified: false, groups: [] };
      if (identityMode === 'oidc' && !start.startedBySupervisor) {
        const check = await identity.verifyActor.executeWithOptions({ summary: 'verify who started the run' }, [
          { claimedBy: start.requestedBy, idToken: start.idToken },
        ]);
        if (!check.ok)
          throw ApplicationFailure.nonRetryable(
            `who started this run is not verified: ${check.reason} (start it with an ID token: ct login, then ct retrain)`,
            'InvalidIdentity',
          );
        requester = check.actor;
      } else if (identityMode === 'oidc') requester = { ...requester, verified: true };
      ctx.requester = requester.subject;
      return requester;
    },
    async decide(verdict, evaluation) {
      const p = policy!;
      if (p.mode === 'auto') status.decision = byPolicy('auto', 'approval mode auto: gate passed', []);
      if (p.mode === 'policy') {
        const auto = autoApproval(p, verdict, evaluation);
        if (auto.approve) status.decision = byPolicy('policy', 'autoApprove policy held', auto.evidence);
      }
      if (!status.decision)
        status.approval = {
          approvers: [...allowedApprovers(p, escalated)],
          quorum: p.quorum,
          approvals: [...approvals.keys()],
          escalated,
          next: null,
        };
      if (status.approval) book.awaitingApproval();
      setCurrentDetails(describeStatus(status));
      if (!status.decision) askPeople('approval-requested', status.approval!.approvers);
      if (!status.decision)
        await waitWithDeadlines(
          p,
          () => status.decision !== null,
          onDeadline(p),
          (next) => {
            status.approval!.next = next;
            setCurrentDetails(describeStatus(status));
          },
        );
      if (status.approval) status.approval.next = null;
      await condition(() => status.decision !== null);
      return status.decision!;
    },
  };
}

/** Silence has consequences: a reminder, then escalation to more approvers, then automatic rejection. */
async function waitWithDeadlines(
  policy: ApprovalPolicy,
  decided: () => boolean,
  onDeadline: (kind: 'reminder' | 'escalation' | 'timeout') => Promise<void>,
  onNext: (next: { kind: 'reminder' | 'escalation' | 'timeout'; at: string }) => void,
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
    onNext({ kind: d.kind, at: new Date(d.at).toISOString() });
    if (await condition(decided, Math.max(1, d.at - Date.now()))) return;
    await onDeadline(d.kind);
    if (d.kind === 'timeout') return;
  }
}
