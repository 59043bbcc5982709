import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedApprovers, autoApproval, durationMs, personRefusal, refusal } from '../../core/approvals';
import { rollbackRefusal } from '../../core/rollback';
import { ModelConfig } from '../../core/modelConfig';
import type { EvaluationReport } from '../../core/reports';

const policy = ModelConfig.shape.approval.parse({
  mode: 'manual',
  roles: { 'ml-lead': ['alice', 'bob'], risk: ['carol'] },
  approverRoles: ['ml-lead'],
  escalationRoles: ['risk'],
  quorum: 2,
});
const waiting = { stage: 'approval', decided: null, escalated: false, requester: 'alice' };

describe('approval rules', () => {
  it('verified groups hold roles by name: an approver group may decide, others and the requester may not', () => {
    const groupRoles = ModelConfig.shape.approval.parse({
      mode: 'manual',
      roles: { 'ml-approvers': [], 'ml-leads': [] },
      approverRoles: ['ml-approvers'],
      escalationRoles: ['ml-leads'],
      quorum: 2,
    });
    assert.equal(personRefusal(groupRoles, waiting, 'bob', ['ml-approvers'], 'approved'), null);
    assert.equal(
      personRefusal(groupRoles, waiting, 'mallory', ['interns'], 'approved'),
      'mallory is not in an approver role of this model (ml-approvers)',
    );
    assert.match(personRefusal(groupRoles, waiting, 'carol', ['ml-leads'], 'approved')!, /not in an approver role/);
    assert.equal(personRefusal(groupRoles, { ...waiting, escalated: true }, 'carol', ['ml-leads'], 'approved'), null);
    assert.match(personRefusal(groupRoles, waiting, 'alice', ['ml-approvers'], 'approved')!, /separation of duties/);
    assert.equal(personRefusal(groupRoles, waiting, 'alice', ['ml-approvers'], 'rejected'), null);
    const facts = {
      policy: groupRoles,
      versions: [1, 2],
      champion: 2,
      target: {
        gatePassed: true,
        decision: {
          outcome: 'approved' as const,
          by: 'bob',
          comment: '',
          mode: 'manual' as const,
          approvals: [],
          evidence: [],
        },
      },
      tokenProblem: null,
    };
    const req = { modelId: 'm', toVersion: 1, by: 'bob', reason: '', override: false };
    assert.equal(rollbackRefusal(req, { ...facts, groups: ['ml-approvers'] }), null);
    assert.match(rollbackRefusal(req, { ...facts, groups: ['interns'] })!, /bob is not in a role that may roll back m/);
    assert.match(rollbackRefusal(req, facts)!, /not in a role/);
  });

  it('only members of the approver roles may decide; escalation adds its roles', () => {
    assert.deepEqual([...allowedApprovers(policy, false)], ['alice', 'bob']);
    assert.deepEqual([...allowedApprovers(policy, true)], ['alice', 'bob', 'carol']);
    assert.equal(
      refusal(policy, waiting, 'mallory', 'approved'),
      'mallory is not in an approver role of this model (ml-lead)',
    );
    assert.equal(
      refusal(policy, waiting, 'carol', 'approved'),
      'carol is not in an approver role of this model (ml-lead)',
    );
    assert.equal(refusal(policy, { ...waiting, escalated: true }, 'carol', 'approved'), null);
  });

  it('separates duties: the requester may not approve (but may withdraw by rejecting)', () => {
    assert.equal(
      refusal(policy, waiting, 'alice', 'approved'),
      'separation of duties: alice requested this run and cannot approve it',
    );
    assert.equal(refusal(policy, waiting, 'alice', 'rejected'), null);
  });

  it('refuses decisions outside the approval stage or after the run is decided', () => {
    assert.equal(
      refusal(policy, { ...waiting, stage: 'train' }, 'bob', 'approved'),
      'run is not awaiting approval (stage: train)',
    );
    assert.equal(
      refusal(policy, { ...waiting, decided: 'rejected by bob' }, 'bob', 'approved'),
      'run already rejected by bob',
    );
  });

  it('validates the policy in the model config', () => {
    const bad = ModelConfig.shape.approval.safeParse({ approverRoles: ['nobody'], rejectAfter: 'soon' });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error.issues), /a duration like 90s, 30m, 4h or 2d/);
    assert.equal(durationMs('90s'), 90_000);
    assert.equal(durationMs('2d'), 172_800_000);
    assert.throws(() => durationMs('2 days'), /not a duration/);
  });

  it('auto-approves only when the gate passed with the margin and no slice regressed, with evidence', () => {
    const p = ModelConfig.shape.approval.parse({ mode: 'policy', autoApprove: { minMargin: { rocAuc: 0.01 } } });
    const m = (rocAuc: number) => ({ rocAuc, logLoss: 0.5, accuracy: 0.7, precision: 0.5, recall: 0.5 });
    const report = (cand: number, sliceCand: number): EvaluationReport => ({
      holdoutSha256: 'h',
      holdoutRows: 10,
      threshold: 0.5,
      sliceBy: 'origin',
      candidate: { version: null, overall: m(cand), slices: [{ value: 'ORD', rows: 5, metrics: m(sliceCand) }] },
      champion: { version: 1, overall: m(0.6), slices: [{ value: 'ORD', rows: 5, metrics: m(0.6) }] },
      reportKey: 'k',
    });
    const passed = { passed: true, championVersion: 1, checks: [], reasons: [] };
    assert.equal(autoApproval(p, passed, report(0.62, 0.61)).approve, true);
    const slim = autoApproval(p, passed, report(0.605, 0.61));
    assert.equal(slim.approve, false);
    assert.match(slim.evidence.join('; '), /rocAuc improves by 0\.0050 \(needs 0\.01\)/);
    const sliceWorse = autoApproval(p, passed, report(0.62, 0.55));
    assert.equal(sliceWorse.approve, false);
    assert.match(sliceWorse.evidence.join('; '), /slices worse on rocAuc: ORD/);
  });
});
