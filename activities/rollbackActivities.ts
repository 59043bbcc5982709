// `ct rollback` on the workers: the registered governance decides who may move the champion back and to which
// version; every refusal and every rollback goes to the audit chain.
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { AuditEvent } from '../core/audit';
import { checkGovernanceToken } from '../core/governanceTokens';
import { keys } from '../core/keys';
import { actorRecord } from '../core/identity';
import { type RollbackInput, type RollbackResult, rollbackRefusal } from '../core/rollback';
import { governancePublicKey } from '../adapters/governanceKeys';
import { type ActivityDeps, activityLogger } from './context';
import { FailureType } from './failures';
import { createAuditActivities } from './auditActivities';
import { listVersions, moveAlias, readAlias, readCard, readRegisteredConfig } from '../adapters/registryStore';

// Rollback runs only as an activity of the rollbackChampion workflow, whose ids key its audit records and claims.
const execution = () => {
  const e = Context.current().info.workflowExecution;
  if (!e) throw ApplicationFailure.nonRetryable('rollbackChampion runs only inside a workflow', 'InvalidInput');
  return e;
};

export function createRollbackActivities(deps: ActivityDeps) {
  const { store } = deps;

  const { recordAudit } = createAuditActivities(deps);
  async function audit(event: Omit<AuditEvent, 'workflowId' | 'runId' | 'eventId'>, suffix: string) {
    const { workflowId, runId } = execution();
    await recordAudit({ ...event, workflowId, runId, eventId: `${runId}/${suffix}` });
  }

  /** The token's problem (null: it holds, or none was given) and the nonce it would spend. */
  function checkToken(input: RollbackInput): { problem: string | null; nonce: string | null } {
    if (!input.token) return { problem: null, nonce: null };
    if (!deps.approvalSecret)
      return { problem: 'the workers have no approval secret (CT_APPROVAL_SECRET)', nonce: null };
    const scope = { act: 'rollback' as const, modelId: input.modelId, version: input.toVersion };
    const check = checkGovernanceToken(
      governancePublicKey(deps.approvalSecret),
      input.token,
      input.by,
      scope,
      Date.now(),
    );
    return check.ok ? { problem: null, nonce: check.claims.nonce } : { problem: check.reason, nonce: null };
  }

  /** A token works once: its nonce is claimed by a conditional write (a retry of the same rollback keeps its claim). */
  async function spendNonce(input: RollbackInput, nonce: string): Promise<boolean> {
    const { runId } = execution();
    const key = keys.spentToken(input.modelId, nonce);
    const claim = { act: 'rollback', by: input.by, to: input.toVersion, runId, at: new Date().toISOString() };
    if (await store.putIfAbsent(key, JSON.stringify(claim))) return true;
    return ((await store.getJson(key)) as { runId?: string }).runId === runId;
  }

  async function rollbackChampion(declared: RollbackInput): Promise<RollbackResult> {
    const log = activityLogger(deps.logger);
    // Where identities are verified, who rolls back is the subject of their ID token, checked here on the worker.
    const { idToken, ...named } = declared;
    const check =
      deps.identity?.mode === 'oidc'
        ? idToken
          ? await deps.identity.verify(idToken)
          : ({
              ok: false,
              reason: 'no identity token: this deployment verifies people (sign in with ct login)',
            } as const)
        : null;
    const actor = check?.ok ? check.actor : null;
    const input: RollbackInput = actor ? { ...named, by: actor.subject } : named;
    const config = await readRegisteredConfig(store, input.modelId);
    if (!config) {
      throw ApplicationFailure.nonRetryable(
        `unknown model "${input.modelId}": it has no registered configuration (ct models register <config file>)`,
        FailureType.unknownModel,
      );
    }
    const versions = await listVersions(store, input.modelId);
    const from = (await readAlias(store, input.modelId, 'champion'))?.version ?? null;
    const card = versions.includes(input.toVersion) ? await readCard(store, input.modelId, input.toVersion) : null;
    const target = card ? { gatePassed: card.gate.passed, decision: card.decision } : null;
    const details = {
      from,
      to: input.toVersion,
      override: input.override,
      reason: input.reason,
      identity: actor ? actorRecord(actor) : { subject: input.by, verified: false },
    };
    const refused = async (reason: string): Promise<never> => {
      await audit(
        { modelId: input.modelId, kind: 'rollback-refused', actor: input.by, details: { ...details, refusal: reason } },
        'rollback-refused',
      );
      log.warn({ modelId: input.modelId, by: input.by, to: input.toVersion, reason }, 'rollback refused');
      throw ApplicationFailure.nonRetryable(`rollback refused: ${reason}`, FailureType.rollbackRefused);
    };
    if (check && !check.ok) return refused(`who rolls back is not verified: ${check.reason}`);
    const token = checkToken(input);
    const why = rollbackRefusal(input, {
      groups: actor?.groups ?? [],
      policy: config.approval,
      versions,
      champion: from,
      target,
      tokenProblem: token.problem,
    });
    if (why) return refused(why);
    if (token.nonce && !(await spendNonce(input, token.nonce)))
      return refused('token refused: this token was already used');
    const move = await moveAlias(
      store,
      input.modelId,
      'champion',
      input.toVersion,
      `rollback by ${input.by}`,
      from,
      new Date(),
    );
    if (!move.moved)
      return refused(
        `the champion of ${input.modelId} changed to v${move.current} while rolling back; nothing changed, try again`,
      );
    await audit({ modelId: input.modelId, kind: 'rollback', actor: input.by, details }, 'rollback');
    log.info(
      { modelId: input.modelId, from, to: input.toVersion, by: input.by, override: input.override },
      'champion rolled back',
    );
    return { modelId: input.modelId, from, to: input.toVersion, by: input.by, override: input.override };
  }

  return { rollbackChampion };
}
