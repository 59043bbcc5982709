// The `ct` command as a user runs it: a real process against the real servers.
import assert from 'node:assert/strict';
import { ctEnv, runCt, spawnCt } from '../helpers/ct';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keys } from '../../core/keys';
import { createAuditLog } from '../../workers/config';
import { testModelConfig } from '../helpers/flights';
import { flightsTenant, startTestStack, type TestStack } from '../helpers/stack';
import { until } from '../helpers/until';

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
    const run = await ct(
      'retrain',
      'flight-delay',
      '--data',
      'data/jan.parquet',
      '--by',
      'cli-test',
      '--reason',
      'smoke',
      '--wait',
      '--json',
    );
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as {
      outcome: string;
      trigger: { requestedBy: string };
      registered: { version: number };
    };
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.trigger.requestedBy, 'cli-test');
    const show = await ct('models', 'show', 'flight-delay', '--json');
    assert.equal(show.status, 0, show.stderr);
    const view = JSON.parse(show.stdout) as {
      aliases: { champion: number };
      versions: { version: number; metrics: { rocAuc: number } }[];
    };
    assert.equal(view.aliases.champion, 1);
    assert.equal(view.versions[0]!.version, 1);
    assert.ok(view.versions[0]!.metrics.rocAuc > 0.5);
  });

  it('explains bad input with exit code 2 and the field at fault', async () => {
    const noData = await ct('retrain', 'flight-delay');
    assert.equal(noData.status, 2);
    assert.match(noData.stderr, /required option '--data <key\.\.\.>' not specified/);
    const bad = path.join(stack.dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ ...testModelConfig(), label: { source: 'nope', positiveWhen: { op: '>', value: 1 } } }),
    );
    const reg = await ct('models', 'register', bad);
    assert.equal(reg.status, 2);
    assert.match(reg.stderr, /label\.source: "nope" is not a declared column/);
    const unknown = await ct('models', 'show', 'no-such-model');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown model "no-such-model"/);
    const noSecret = await runCt(
      ['token', '--as', 'bob', '--run', 'retrain/x/1'],
      { ...env, CT_APPROVAL_SECRET: '' },
      stack.dir,
    );
    assert.equal(noSecret.status, 2);
    assert.match(noSecret.stderr, /token: set CT_APPROVAL_SECRET/);
    const shortSecret = await runCt(
      ['token', '--as', 'bob', '--run', 'retrain/x/1'],
      { ...env, CT_APPROVAL_SECRET: 'short' },
      stack.dir,
    );
    assert.equal(shortSecret.status, 2);
    assert.match(shortSecret.stderr, /approvalSecret: use at least 16 characters/);
    const secretEnv = { ...env, CT_APPROVAL_SECRET: 'a-long-enough-secret' };
    const issued = await runCt(
      ['token', '--as', 'bob', '--run', 'retrain/x/1', '--run-id', 'r-1', '--ttl', '2h'],
      secretEnv,
      stack.dir,
    );
    assert.equal(issued.status, 0, issued.stderr);
    assert.match(issued.stdout, /^v2\.[0-9a-f]+\.[0-9a-f]{128}\n$/);
    const rollbackToken = await runCt(
      ['token', '--as', 'bob', '--rollback', 'flight-delay', '--to', '1'],
      secretEnv,
      stack.dir,
    );
    assert.equal(rollbackToken.status, 0, rollbackToken.stderr);
    const both = await runCt(['token', '--as', 'bob'], secretEnv, stack.dir);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /give either --run <workflowId> or --rollback <modelId> --to <version>/);
    const badTtl = await runCt(
      ['token', '--as', 'bob', '--run', 'retrain/x/1', '--run-id', 'r', '--ttl', 'soon'],
      secretEnv,
      stack.dir,
    );
    assert.notEqual(badTtl.status, 0);
    assert.match(badTtl.stderr, /"soon" is not a duration/);
    const badAudit = await ct('audit', 'erase', 'flight-delay');
    assert.equal(badAudit.status, 2);
    assert.match(badAudit.stderr, /unknown command 'erase'/);
    const badRollback = await ct('rollback', 'flight-delay', '--to', '99', '--as', 'alice');
    assert.equal(badRollback.status, 1);
    assert.match(badRollback.stderr, /rollback refused: .*flight-delay has no version 99/);
    const typo = await ct('retrian');
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /unknown command 'retrian'/);
    const badEnv = await runCt(['models', 'show', 'x'], { ...env, CT_S3_ENDPOINT: 'nope' }, stack.dir);
    assert.equal(badEnv.status, 2);
    assert.match(badEnv.stderr, /s3\.endpoint: Invalid URL/);
  });

  it('gives each command its own --help, and bad files exit 2 like bad configs', async () => {
    const help = await ct('retrain', '--help');
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: ct retrain \[options\] <modelId>/);
    assert.match(help.stdout, /--data <key\.\.\.>/);
    assert.doesNotMatch(help.stdout, /schedule create/, 'not the global usage');
    const nested = await ct('schedule', 'create', '--help');
    assert.match(nested.stdout, /^Usage: ct schedule create \[options\] <modelId>/);
    assert.match(nested.stdout, /--retrain-every <interval>/);
    const top = await ct('--help');
    assert.equal(top.status, 0);
    assert.match(top.stdout, /rollback \[options\] <modelId>/);
    const none = await ct();
    assert.equal(none.status, 2);
    const missing = await ct('models', 'register', path.join(stack.dir, 'nope.yaml'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /invalid file .*nope\.yaml:\n {2}- no such file/);
    const yamlFile = path.join(stack.dir, 'broken.yaml');
    writeFileSync(yamlFile, 'modelId: [unclosed');
    const broken = await ct('models', 'validate', yamlFile);
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /broken\.yaml:\n {2}- not valid YAML/);
    const unknownFlag = await ct('status', 'x', '--jsn');
    assert.equal(unknownFlag.status, 2);
    assert.match(unknownFlag.stderr, /unknown option '--jsn'/);
  });

  it("refuses hyperparameters that break the trainer's rules at registration, keeping the stored config", async () => {
    const file = path.join(stack.dir, 'hp.json');
    writeFileSync(file, JSON.stringify(testModelConfig()));
    assert.equal((await ct('models', 'register', file)).status, 0);
    writeFileSync(
      file,
      JSON.stringify({ ...testModelConfig(), hyperparameters: { epochs: -3, learningRate: 'fast' } }),
    );
    const bad = await ct('models', 'register', file);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /hyperparameters\.epochs: .*(>0|greater than 0).* \(rules of trainer flight-delay\)/);
    assert.match(bad.stderr, /hyperparameters\.learningRate: .*number/);
    const stored = (await tenant.store.getJson(keys.registeredConfig('flight-delay'))) as {
      hyperparameters: { epochs: number };
    };
    assert.equal(stored.hyperparameters.epochs, 2, 'the good registered config is untouched');
  });

  it('refuses path-like keys and ids at the boundary, and unknown models in audit and runs, writing nothing', async () => {
    const dots = await ct('retrain', 'flight-delay', '--data', 'data/../etc/passwd');
    assert.equal(dots.status, 2);
    assert.match(
      dots.stderr,
      /dataset\.keys\[0\]: object key "data\/\.\.\/etc\/passwd" contains a "\." or "\.\." segment/,
    );
    const traversal = await ct('audit', 'verify', '../etc');
    assert.equal(traversal.status, 2);
    assert.match(traversal.stderr, /invalid model id:.*model ids are 1-63 characters/s);
    const never = await ct('audit', 'verify', 'never-registered');
    assert.equal(never.status, 2);
    assert.match(never.stderr, /unknown model "never-registered"/);
    const run = await ct('retrain', 'never-registered', '--data', 'data/jan.parquet', '--wait');
    assert.equal(run.status, 1);
    assert.match(run.stdout, /failed at stage starting: .*model "never-registered" has no registered configuration/);
    assert.deepEqual(
      await createAuditLog(tenant.config).records('never-registered'),
      [],
      'no audit chain for a model that does not exist',
    );
  });

  it("ct retrain --wait names the failed stage and its cause; ct status of a supervisor id is the supervisor's", async () => {
    const run = await ct('retrain', 'flight-delay', '--data', 'data/missing.parquet', '--wait');
    assert.equal(run.status, 1);
    assert.match(run.stdout, /failed at stage validate: .*no object at s3:\/\/.*data\/missing\.parquet/);
    assert.match(run.stdout, /outcome: failed/);
    const sup = await ct('status', 'ct/flight-delay');
    assert.equal(sup.status, 2);
    assert.match(sup.stderr, /no supervisor ct\/flight-delay is running/);
    assert.doesNotMatch(sup.stderr, /Cannot read properties/);
  });

  it("refuses an inline config that changes a registered model's governance (a caller cannot approve its own run)", async () => {
    const manual = {
      ...testModelConfig(),
      approval: { mode: 'manual', roles: { leads: ['alice'] }, approverRoles: ['leads'] },
    };
    const registered = path.join(stack.dir, 'manual.json');
    writeFileSync(registered, JSON.stringify(manual));
    assert.equal((await ct('models', 'register', registered)).status, 0);
    const evil = path.join(stack.dir, 'evil.json');
    writeFileSync(evil, JSON.stringify({ ...manual, approval: { mode: 'auto' }, gate: { minimum: {} } }));
    const run = await ct('retrain', 'flight-delay', '--data', 'data/jan.parquet', '--config', evil, '--wait');
    assert.equal(run.status, 1);
    assert.match(
      run.stdout,
      /failed at stage starting: the inline modelConfig changes the governance of registered model "flight-delay" \(approval, gate\)/,
    );
    const versions = (await ct('models', 'show', 'flight-delay', '--json')).stdout;
    assert.equal(
      (JSON.parse(versions) as { versions: unknown[] }).versions.length,
      1,
      'nothing registered by the refused run',
    );
  });
  /** Registers `testModelConfig` under another model id (so these runs leave flight-delay's registry alone). */
  const registerAs = async (modelId: string, overrides: Record<string, unknown>) => {
    const file = path.join(stack.dir, `${modelId}.json`);
    writeFileSync(file, JSON.stringify({ ...testModelConfig(), modelId, ...overrides }));
    const reg = await ct('models', 'register', file);
    assert.equal(reg.status, 0, reg.stderr);
  };

  it('ct status --watch, piped, prints a line per change up to the outcome; ct status <modelId> follows the supervisor', async () => {
    // Slow steps (34 × 800 ms): the watcher is a fresh `ct` process, and under CI load its start took up all of
    // training at 300 ms a step, so it saw one training line.
    const slow = testModelConfig({
      command: ['env', 'CT_TRAINER_STEP_DELAY_MS=800', 'python3', 'trainers/flight_delay/train.py'],
    });
    await registerAs('status-watch', { trainer: slow.trainer });
    const ask = await ct(
      'supervisor',
      'retrain',
      'status-watch',
      '--as',
      'cli-test',
      '--reason',
      'watch it',
      '--data',
      'data/jan.parquet',
    );
    assert.equal(ask.status, 0, ask.stderr);
    const workflowId = await until(
      'the supervisor to start the run',
      async () => {
        const r = await ct('status', 'status-watch', '--json');
        const view = JSON.parse(r.stdout) as {
          supervisor: { incident: { run: { workflowId: string } | null } | null };
        };
        return view.supervisor.incident?.run?.workflowId;
      },
      60_000,
    );
    const model = spawnCt(['status', 'status-watch', '--watch', '--interval', '0.3'], env, stack.dir);
    const watched = await ct('status', workflowId, '--watch', '--interval', '0.3');
    assert.equal(watched.status, 0, watched.stderr);
    const lines = watched.stdout.split('\n');
    assert.ok(
      lines.every((l, i) => i === 0 || l === '' || l !== lines[i - 1]),
      `a line is printed only when it changes:\n${watched.stdout}`,
    );
    const steps = lines.flatMap((l) => /^train (\d+)\/(\d+) /.exec(l)?.[1] ?? []).map(Number);
    assert.ok(steps.length >= 2, `at least two training lines:\n${watched.stdout}`);
    assert.deepEqual(
      steps,
      [...steps].sort((a, b) => a - b),
      'training steps only go up',
    );
    assert.ok(steps.at(-1)! > steps[0]!);
    assert.match(watched.stdout, /^train \d+\/\d+ \d+% .*ETA \d+:\d\d/m);
    assert.match(watched.stdout, /^done promoted$/m);
    assert.match(watched.stdout, /outcome: promoted → registered v1, now champion/);
    // The model's watcher saw the run in flight; Ctrl-C stops it cleanly (130), the run unaffected.
    await until('the model view to see the champion', async () => /champion v1/.test(model.stdout()));
    model.child.kill('SIGINT');
    const stopped = await model.done;
    assert.equal(stopped.status, 130, stopped.stderr);
    assert.match(
      stopped.stdout,
      new RegExp(`^status-watch: retraining · champion none · incident \\S+ · ${workflowId} `, 'm'),
    );
    assert.match(stopped.stdout, /stopped watching status-watch/);
    const sup = await ct('status', 'status-watch');
    assert.equal(sup.status, 0, sup.stderr);
    assert.match(sup.stdout, /^status-watch: (watching|cooling-down) · champion v1/);
    assert.match(sup.stdout, new RegExp(`${workflowId} manual → promoted v1`));
  });

  it('ct retrain --wait shows who may approve and when the reminder fires, then the outcome', async () => {
    await registerAs('status-approve', {
      approval: { mode: 'manual', roles: { leads: ['alice', 'bob'] }, approverRoles: ['leads'], reminderAfter: '1h' },
    });
    const wait = spawnCt(['retrain', 'status-approve', '--data', 'data/jan.parquet', '--wait'], env, stack.dir);
    const waiting = await until('the run to wait for approval', async () =>
      /^approval: waiting for approval by alice, bob \(0\/1\) · reminder in (59m|1h 00m) \(at \S+\)$/m.exec(
        wait.stdout(),
      ),
    );
    const workflowId = /^started (\S+)$/m.exec(wait.stdout())![1]!;
    const at = Date.parse(/\(at (\S+)\)/.exec(waiting[0])![1]!);
    assert.ok(Math.abs(at - Date.now() - 3_600_000) < 120_000, `the reminder is due in an hour: ${waiting[0]}`);
    const approve = await ct('approve', workflowId, '--as', 'alice');
    assert.equal(approve.status, 0, approve.stderr);
    const done = await wait.done;
    assert.equal(done.status, 0, done.stderr);
    assert.match(done.stdout, /^approval: waiting for approval by alice/m);
    assert.match(done.stdout, /outcome: promoted/);
    assert.match(done.stdout, /decision: approved by alice \(manual\)/);
    const unknown = await ct('status', 'no-such-model');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no workflow "no-such-model" and no supervisor ct\/no-such-model is running/);
    const noRun = await ct('status', 'retrain/status-approve/nope');
    assert.equal(noRun.status, 2);
    assert.match(noRun.stderr, /no workflow "retrain\/status-approve\/nope"/);
    const badInterval = await ct('status', workflowId, '--watch', '--interval', '0');
    assert.equal(badInterval.status, 2);
    assert.match(badInterval.stderr, /--interval must be a positive number of seconds, not "0"/);
  });
});
