// The `ct` command as a user runs it: a real process against the real servers.
import assert from 'node:assert/strict';
import { ctEnv, runCt } from '../helpers/ct';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testModelConfig } from '../helpers/flights';
import { flightsTenant, startTestStack, type TestStack } from '../helpers/stack';

describe('ct command', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  let env: NodeJS.ProcessEnv;
  // Asynchronous on purpose: the workers run in this process and must keep running while ct waits.
  const ct = (...args: string[]) => runCt(args, env, stack.dir);

  before(async () => {
    stack = await startTestStack();
    tenant = await flightsTenant(stack);
    env = ctEnv(tenant.config);
  });
  after(async () => stack?.stop());

  it('registers a model, retrains it and shows the registry as JSON', async () => {
    const file = path.join(stack.dir, 'model.json');
    writeFileSync(file, JSON.stringify(testModelConfig()));
    const reg = await ct('models', 'register', file);
    assert.equal(reg.status, 0, reg.stderr);
    assert.match(reg.stdout, /registered flight-delay/);
    const run = await ct('retrain', 'flight-delay', '--data', 'data/jan.parquet', '--by', 'cli-test', '--reason', 'smoke', '--wait', '--json');
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { outcome: string; trigger: { requestedBy: string }; registered: { version: number } };
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.trigger.requestedBy, 'cli-test');
    const show = await ct('models', 'show', 'flight-delay', '--json');
    assert.equal(show.status, 0, show.stderr);
    const view = JSON.parse(show.stdout) as { aliases: { champion: number }; versions: { version: number; metrics: { rocAuc: number } }[] };
    assert.equal(view.aliases.champion, 1);
    assert.equal(view.versions[0]!.version, 1);
    assert.ok(view.versions[0]!.metrics.rocAuc > 0.5);
  });

  it('explains bad input with exit code 2 and the field at fault', async () => {
    const noData = await ct('retrain', 'flight-delay');
    assert.equal(noData.status, 2);
    assert.match(noData.stderr, /dataset\.keys: /);
    const bad = path.join(stack.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...testModelConfig(), label: { source: 'nope', positiveWhen: { op: '>', value: 1 } } }));
    const reg = await ct('models', 'register', bad);
    assert.equal(reg.status, 2);
    assert.match(reg.stderr, /label\.source: "nope" is not a declared column/);
    const unknown = await ct('models', 'show', 'no-such-model');
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /unknown model "no-such-model"/);
    const noSecret = await runCt(['token', '--as', 'bob', '--run', 'retrain/x/1'], { ...env, CT_APPROVAL_SECRET: '' }, stack.dir);
    assert.equal(noSecret.status, 2);
    assert.match(noSecret.stderr, /token: set CT_APPROVAL_SECRET/);
    const shortSecret = await runCt(['token', '--as', 'bob', '--run', 'retrain/x/1'], { ...env, CT_APPROVAL_SECRET: 'short' }, stack.dir);
    assert.equal(shortSecret.status, 2);
    assert.match(shortSecret.stderr, /approvalSecret: use at least 16 characters/);
    const issued = await runCt(['token', '--as', 'bob', '--run', 'retrain/x/1', '--ttl', '2h'], { ...env, CT_APPROVAL_SECRET: 'a-long-enough-secret' }, stack.dir);
    assert.equal(issued.status, 0, issued.stderr);
    assert.match(issued.stdout, /^v1\.[A-Za-z0-9_-]+\.[0-9a-f]{64}\n$/);
    const badTtl = await runCt(['token', '--as', 'bob', '--run', 'retrain/x/1', '--ttl', 'soon'], { ...env, CT_APPROVAL_SECRET: 'a-long-enough-secret' }, stack.dir);
    assert.notEqual(badTtl.status, 0);
    assert.match(badTtl.stderr, /"soon" is not a duration/);
    const badAudit = await ct('audit', 'erase', 'flight-delay');
    assert.equal(badAudit.status, 2);
    assert.match(badAudit.stderr, /audit: expected show or verify/);
    const badRollback = await ct('rollback', 'flight-delay', '--to', '99', '--as', 'alice');
    assert.equal(badRollback.status, 1);
    assert.match(badRollback.stderr, /flight-delay has no version 99/);
    const typo = await ct('retrian');
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /unknown command "retrian"/);
    const badEnv = await runCt(['models', 'show', 'x'], { ...env, CT_S3_ENDPOINT: 'nope' }, stack.dir);
    assert.equal(badEnv.status, 2);
    assert.match(badEnv.stderr, /s3\.endpoint: Invalid URL/);
  });
});
