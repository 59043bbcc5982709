// `ct rollback` under governance, on the real dev server, workers and MinIO: who may roll back, to which versions,
// the escalation override, signed single-use tokens, an unknown model; every refusal audited with its reason.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issueGovernanceToken } from '../../adapters/governanceKeys';
import { readAlias, registerVersion, setAlias } from '../../adapters/registryStore';
import { rollbackModel, type RollbackRefusedError } from '../../client';
import { keys } from '../../core/keys';
import type { ModelConfigInput } from '../../core/modelConfig';
import type { Decision } from '../../core/reports';
import type { RollbackInputJson } from '../../core/rollback';
import { createAuditLog } from '../../workers/config';
import { cardFromHistory } from '../helpers/cards';
import { testModelConfig } from '../helpers/flights';
import { recordHistory, startTestStack, type TestStack } from '../helpers/stack';

const SECRET = 'rollback-test-secret-0123';
const approved: Decision = { outcome: 'approved', by: 'bob', comment: '', mode: 'manual', approvals: [], evidence: [] };
const rejected: Decision = {
  outcome: 'rejected',
  by: 'bob',
  comment: 'worse on SFO',
  mode: 'manual',
  approvals: [],
  evidence: [],
};

describe('rollback governance (real servers)', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;

  const governance = (modelId: string, extra: object = {}): ModelConfigInput => ({
    ...testModelConfig(),
    modelId,
    approval: {
      mode: 'manual',
      roles: { 'ml-lead': ['alice', 'bob'], sre: ['olga'], risk: ['carol'] },
      approverRoles: ['ml-lead'],
      escalationRoles: ['risk'],
      rollback: { roles: ['ml-lead', 'sre'], allowOverride: true },
      ...extra,
    },
  });

  /** v1 approved, v2 rejected by people, v3 pending (never decided), v4 approved and champion. */
  async function seed(modelId: string, extra: object = {}) {
    const { store } = tenant;
    await store.putJson(keys.registeredConfig(modelId), governance(modelId, extra));
    await store.put(`runs/${modelId}/model.pt`, 'weights');
    const decisions = [approved, rejected, null, approved];
    for (const [i, decision] of decisions.entries()) {
      const base = cardFromHistory();
      await registerVersion(
        store,
        { ...base, modelId, run: { ...base.run, runId: `${modelId}-run-${i + 1}` }, decision },
        `runs/${modelId}/model.pt`,
      );
    }
    await setAlias(store, modelId, 'champion', 4, `${modelId}-run-4`, new Date());
  }

  const rollback = (input: RollbackInputJson, workflowId?: string) =>
    rollbackModel(stack.client, input, { taskQueue: tenant.config.taskQueue, workflowId });
  const refusal = (input: RollbackInputJson) =>
    rollback(input).then(
      () => assert.fail(`rollback ${JSON.stringify(input)} should have been refused`),
      (err: unknown) => err as RollbackRefusedError,
    );
  const champion = async (modelId: string) => (await readAlias(tenant.store, modelId, 'champion'))?.version;
  const audit = (modelId: string) => createAuditLog(tenant.config).records(modelId);

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    tenant.config.approvalSecret = SECRET;
    await tenant.store.ensureBucket();
    await stack.startWorkers(tenant.config, { gpu: false });
    await seed('gov');
    await seed('gov-signed', { signedApprovals: true });
  });
  after(async () => stack?.stop());

  it('refuses people outside the rollback roles and versions that were rejected or never approved, auditing each refusal', async () => {
    const outsider = await refusal({ modelId: 'gov', toVersion: 1, by: 'mallory' });
    assert.equal(outsider.type, 'RollbackRefused');
    assert.match(
      outsider.message,
      /rollback refused: mallory is not in a role that may roll back gov \(ml-lead, sre\)/,
    );
    assert.match(
      (await refusal({ modelId: 'gov', toVersion: 2, by: 'alice' })).message,
      /v2 was rejected by bob \(manual\): worse on SFO; only an approved version/,
    );
    assert.match(
      (await refusal({ modelId: 'gov', toVersion: 3, by: 'olga' })).message,
      /v3 was never approved \(its decision is still pending\)/,
    );
    assert.match((await refusal({ modelId: 'gov', toVersion: 4, by: 'alice' })).message, /v4 is already the champion/);
    assert.match(
      (await refusal({ modelId: 'gov', toVersion: 9, by: 'alice' })).message,
      /gov has no version 9 \(versions: 1, 2, 3, 4\)/,
    );
    assert.equal(await champion('gov'), 4, 'nothing moved');
    const refused = (await audit('gov')).filter((r) => r.kind === 'rollback-refused');
    assert.deepEqual(
      refused.map((r) => [r.actor, r.details.to]),
      [
        ['mallory', 1],
        ['alice', 2],
        ['olga', 3],
        ['alice', 4],
        ['alice', 9],
      ],
    );
    assert.match(String(refused[0]!.details.refusal), /mallory is not in a role/);
  });

  it('lets a rollback role move the champion to an approved version, audited', async () => {
    const workflowId = 'rollback/gov/olga';
    assert.deepEqual(
      await rollback({ modelId: 'gov', toVersion: 1, by: 'olga', reason: 'v4 pages on-call' }, workflowId),
      { modelId: 'gov', from: 4, to: 1, by: 'olga', override: false },
    );
    await recordHistory(stack.client, 'rollback-champion', workflowId);
    assert.equal(await champion('gov'), 1);
    const done = (await audit('gov')).filter((r) => r.kind === 'rollback');
    assert.deepEqual(
      done.map((r) => [r.actor, r.details.from, r.details.to, r.details.reason]),
      [['olga', 4, 1, 'v4 pages on-call']],
    );
  });

  it('allows an override to a rejected version only by an escalation role, with a reason', async () => {
    assert.match(
      (await refusal({ modelId: 'gov', toVersion: 2, by: 'alice', override: true, reason: 'x' })).message,
      /alice is not in an escalation role of gov \(risk\)/,
    );
    assert.match(
      (await refusal({ modelId: 'gov', toVersion: 2, by: 'carol', override: true })).message,
      /an override needs a reason/,
    );
    const r = await rollback({
      modelId: 'gov',
      toVersion: 2,
      by: 'carol',
      override: true,
      reason: 'incident 42: v1 and v4 both broken',
    });
    assert.deepEqual([r.from, r.to, r.override], [1, 2, true]);
    const last = (await audit('gov')).at(-1)!;
    assert.deepEqual(
      [last.kind, last.actor, last.details.override, last.details.reason],
      ['rollback', 'carol', true, 'incident 42: v1 and v4 both broken'],
    );
  });

  it('with signed approvals, needs a token for that person and that version, and a token works once', async () => {
    const token = (by: string, version: number) =>
      issueGovernanceToken(SECRET, by, { act: 'rollback', modelId: 'gov-signed', version }, 600_000);
    assert.match(
      (await refusal({ modelId: 'gov-signed', toVersion: 1, by: 'alice' })).message,
      /requires a signed token: ct token --as alice --rollback gov-signed --to 1/,
    );
    assert.match(
      (await refusal({ modelId: 'gov-signed', toVersion: 1, by: 'alice', token: token('alice', 4) })).message,
      /token refused: token was issued for rollback of gov-signed to v4, not rollback of gov-signed to v1/,
    );
    assert.match(
      (await refusal({ modelId: 'gov-signed', toVersion: 1, by: 'alice', token: token('bob', 1) })).message,
      /token was issued to bob, not alice/,
    );
    const good = token('alice', 1);
    assert.equal((await rollback({ modelId: 'gov-signed', toVersion: 1, by: 'alice', token: good })).to, 1);
    await tenant.store.putJson(keys.alias('gov-signed', 'champion'), {
      version: 4,
      runId: 'reset',
      updatedAt: new Date().toISOString(),
    });
    assert.match(
      (await refusal({ modelId: 'gov-signed', toVersion: 1, by: 'alice', token: good })).message,
      /token refused: this token was already used/,
    );
    assert.equal(await champion('gov-signed'), 4);
  });

  it('refuses an unknown model as bad input and writes nothing for it', async () => {
    const err = await refusal({ modelId: 'no-such-model', toVersion: 1, by: 'alice' });
    assert.equal(err.type, 'UnknownModel');
    assert.match(err.message, /unknown model "no-such-model": it has no registered configuration/);
    assert.deepEqual(await audit('no-such-model'), []);
  });
});
