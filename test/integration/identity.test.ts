// Verified identities end to end (identity mode oidc): a real OpenID Connect provider (Ory Hydra), real workers,
// the real trainer and MinIO, on the time-skipping server. Who started a run and who decides are the verified
// subjects of their ID tokens; every bad token or person is refused with the reason, nothing is recorded as a
// decision, and the refusal itself is audited (subject, issuer, token id — never the token).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { decideRun, runStatus, startRetraining } from '../../client';
import { pauseSupervisor, requestRetrain, supervisorStatus } from '../../client/supervisor';
import { resumeSignal } from '../../workflows/definitions';
import { rollbackModel } from '../../client/rollback';
import { keys, workflowIds } from '../../core/keys';
import { AppConfig } from '../../core/appConfig';
import { minioS3, startMinio, type MinioServer as Minio } from '../../stack/minio';
import type { OidcProvider } from '../../stack/oidcProvider';
import { createAuditLog, createObjectStore } from '../../workers/config';
import { startInProcessWorkers, type RunningWorkers } from '../../workers/inProcess';
import { installRuntimeLogger } from '../../workers/runtime';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { TEST_CODEC_KEYS } from '../helpers/codec';
import { ctEnv, runCt, spawnCt } from '../helpers/ct';
import { idTokenFor, signInHeadless, startTestOidcProvider, USERS } from '../helpers/oidc';
import { until } from '../helpers/until';
import { loggedLines, recordHistory, testLogger, timeSkippingEnvironment, workflowBundle } from '../helpers/stack';

const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

describe('verified identities (oidc)', () => {
  let env: TestWorkflowEnvironment;
  let minio: Minio;
  let provider: OidcProvider;
  let workers: RunningWorkers;
  let config: AppConfig;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ct-identity-'));
    installRuntimeLogger(testLogger);
    [env, minio, provider] = await Promise.all([
      timeSkippingEnvironment(),
      startMinio({ dataDir: path.join(dir, 'minio') }),
      startTestOidcProvider(dir),
    ]);
    config = AppConfig.parse({
      temporal: { address: env.address, namespace: 'default' },
      s3: minioS3(minio, 'ct-identity'),
      taskQueue: 'ct-identity',
      workDir: path.join(dir, 'work'),
      identity: { mode: 'oidc', oidc: { issuer: provider.issuer, clientId: provider.clientId } },
      codec: { keys: TEST_CODEC_KEYS },
    });
    const store = createObjectStore(config);
    await store.ensureBucket();
    await store.put('data/jan.parquet', flightsParquet(await readFlightsSlice(0, 20_000)));
    workers = await startInProcessWorkers(config, testLogger, { code: (await workflowBundle()).code });
  });
  after(async () => {
    await workers?.stop();
    await env?.teardown();
    await Promise.all([minio?.process.stop(), provider?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const modelConfigOf = (modelId: string) => ({
    ...testModelConfig(),
    modelId,
    approval: {
      mode: 'manual' as const,
      // Managed in the identity provider: members are whoever has the group.
      roles: { 'ml-approvers': [], 'ml-leads': [] },
      approverRoles: ['ml-approvers'],
      escalationRoles: ['ml-leads'],
      quorum: 2,
    },
  });
  const start = (modelId: string, trigger: { requestedBy: string; idToken?: string }) =>
    startRetraining(
      env.client,
      {
        modelId,
        dataset: { keys: ['data/jan.parquet'] },
        trigger: { kind: 'manual', reason: 'test', ...trigger },
        modelConfig: modelConfigOf(modelId),
      },
      { taskQueue: config.taskQueue },
    );

  it('decisions: only verified approvers count; forged, outsider, self-approval and replayed tokens are refused and audited', async () => {
    const aliceToken = await idTokenFor(provider, 'alice');
    // alice declares nothing: who she is comes from her token
    const handle = await start('id-decide', { requestedBy: 'somebody-else', idToken: aliceToken });
    for (let i = 0; i < 600 && (await runStatus(env.client, handle.workflowId)).stage !== 'approval'; i++)
      await new Promise((r) => setTimeout(r, 100));

    const decide = (by: string, idToken?: string) =>
      decideRun(env.client, handle.workflowId, 'approved', by, 'lgtm', undefined, idToken);
    await assert.rejects(decide('bob'), /this deployment verifies who decides: sign in with `ct login`/);

    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ ...decodeJwt(aliceToken), sub: 'bob', groups: ['ml-approvers'] })
      .setProtectedHeader({ alg: 'RS256', kid: decodeProtectedHeader(aliceToken).kid! })
      .sign(privateKey);
    await assert.rejects(decide('bob', forged), /approval refused: token signature does not verify.*forged/);
    await assert.rejects(
      decide('mallory', await idTokenFor(provider, 'mallory')),
      /approval refused: mallory is not in an approver role of this model \(ml-approvers\)/,
    );
    await assert.rejects(
      decide('alice', aliceToken),
      /approval refused: separation of duties: alice requested this run and cannot approve it/,
    );
    const bobToken = await idTokenFor(provider, 'bob');
    assert.deepEqual(await decide('anyone', bobToken), { decision: null, approvals: 1, quorum: 2 });
    await assert.rejects(
      decide('bob', bobToken),
      /approval refused: this token already made a decision on this run \(replayed\)/,
    );
    const done = await decide('dave', await idTokenFor(provider, 'dave'));
    assert.equal(done.decision?.outcome, 'approved');
    assert.deepEqual(
      done.decision?.approvals.map((a) => a.by),
      ['bob', 'dave'],
    );
    const result = await handle.result();
    assert.equal(result.outcome, 'promoted');

    const audit = await createAuditLog(config).records('id-decide');
    assert.deepEqual(
      audit.map((r) => `${r.kind}:${r.actor}`),
      [
        'run-started:alice',
        'gate-verdict:system',
        'decision-refused:unverified',
        'decision-refused:unverified',
        'decision-refused:unverified',
        'approval:bob',
        'decision-refused:unverified',
        'approval:dave',
        'decision:dave',
        'promotion:dave',
      ],
    );
    const refusals = audit.filter((r) => r.kind === 'decision-refused').map((r) => String(r.details.reason));
    assert.match(refusals[0]!, /forged/);
    assert.match(refusals[1]!, /mallory is not in an approver role/);
    assert.match(refusals[2]!, /separation of duties/);
    assert.match(refusals[3]!, /replayed/);
    const bob = audit.find((r) => r.kind === 'approval' && r.actor === 'bob')!;
    assert.deepEqual(bob.details.identity, {
      subject: 'bob',
      verified: true,
      issuer: provider.issuer,
      tokenId: decodeJwt(bobToken).jti,
      groups: ['ml-approvers'],
    });
    assert.deepEqual((audit[0]!.details.identity as { subject: string }).subject, 'alice');
    assert.ok(!JWT.test(JSON.stringify(audit)), 'no audit record holds a token');
    assert.ok(!JWT.test(JSON.stringify(result)), 'the run status holds no token');
    await recordHistory(env.client, 'pipeline-verified-approvals', handle.workflowId);
    await createObjectStore(config).putJson(keys.registeredConfig('id-decide'), modelConfigOf('id-decide'));
    await assert.rejects(
      rollbackModel(env.client, { modelId: 'id-decide', toVersion: 1, by: 'bob' }, { taskQueue: config.taskQueue }),
      /rollback refused: who rolls back is not verified: no identity token/,
    );
  });

  it('a run started without a valid token fails before any work, naming why', async () => {
    const handle = await start('id-unverified', { requestedBy: 'alice' });
    const err = await handle.result().then(
      () => assert.fail('the run should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(
      String((err.cause?.cause as Error | undefined)?.message ?? err.cause?.message),
      /who started this run is not verified: no identity token/,
    );
    const s = await runStatus(env.client, handle.workflowId);
    assert.equal(s.validation, null);
    assert.equal((await createAuditLog(config).records('id-unverified')).length, 0);
  });

  it('ct login signs in through the browser flow and caches the token; ct approve and ct retrain send it', async () => {
    const env0 = {
      ...ctEnv(config),
      CT_IDENTITY_MODE: 'oidc',
      CT_OIDC_ISSUER: provider.issuer,
      CT_OIDC_CLIENT_ID: provider.clientId,
      CT_CREDENTIALS: path.join(dir, 'credentials.json'),
    };
    await assert.rejects(
      runCt(['approve', 'retrain/none', '--comment', 'x'], env0).then((r) => {
        if (r.status !== 0) throw new Error(r.stderr);
      }),
      /not signed in to .* run ct login/,
    );
    const login = spawnCt(['login'], env0);
    const url = await until(
      'the sign-in URL',
      async () => /https?:\/\/\S+oauth2\/auth\S+/.exec(login.stdout())?.[0],
      30_000,
    );
    await signInHeadless(url, USERS.bob);
    const done = await login.done;
    assert.equal(done.status, 0, done.stderr);
    assert.match(done.stdout, new RegExp(`signed in as bob \\(groups: ml-approvers\\) at ${provider.issuer}`));
    assert.equal(statSync(env0.CT_CREDENTIALS).mode & 0o777, 0o600);
    assert.match((await runCt(['whoami'], env0)).stdout, /^bob at /);

    const aliceToken = await idTokenFor(provider, 'alice');
    const handle = await start('id-cli', { requestedBy: 'alice', idToken: aliceToken });
    for (let i = 0; i < 600 && (await runStatus(env.client, handle.workflowId)).stage !== 'approval'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const mismatch = await runCt(['approve', handle.workflowId, '--as', 'dave'], env0);
    assert.equal(mismatch.status, 2);
    assert.match(mismatch.stderr, /--as dave, but you are signed in as bob/);
    const approved = await runCt(['approve', handle.workflowId, '--comment', 'ok'], env0);
    assert.equal(approved.status, 0, approved.stderr);
    assert.match(approved.stdout, /approval recorded, 1 of 2 needed/);
    const status = await runStatus(env.client, handle.workflowId);
    assert.deepEqual(status.approval?.approvals, ['bob']);
    await handle.terminate('test over');

    // ct retrain starts the run as the signed-in person: the run's requester is bob
    const configFile = path.join(dir, 'id-cli.json');
    writeFileSync(configFile, JSON.stringify(modelConfigOf('id-cli')));
    const retrain = await runCt(
      ['retrain', 'id-cli', '--data', 'data/jan.parquet', '--config', configFile, '--json'],
      env0,
    );
    assert.equal(retrain.status, 0, retrain.stderr);
    const { workflowId } = JSON.parse(retrain.stdout) as { workflowId: string };
    await until(
      'the run past its start',
      async () => (await runStatus(env.client, workflowId)).stage !== 'starting',
      60_000,
    );
    const started = (await createAuditLog(config).records('id-cli')).filter((r) => r.kind === 'run-started');
    assert.equal(started.at(-1)?.actor, 'bob');
    await env.client.workflow.getHandle(workflowId).terminate('test over');
    await runCt(['logout'], env0);
    assert.match((await runCt(['whoami'], env0)).stdout, /not signed in/);
  });

  it('a manual retrain request to a supervisor runs as the verified requester; without a token it is refused', async () => {
    await createObjectStore(config).putJson(keys.registeredConfig('id-sup'), modelConfigOf('id-sup'));
    const request = { requestedBy: 'bob', reason: 'new labels', datasetKeys: ['data/jan.parquet'] };
    await assert.rejects(
      requestRetrain(env.client, 'id-sup', request, { taskQueue: config.taskQueue }),
      /retrain request refused: no identity token/,
    );
    const ack = await requestRetrain(
      env.client,
      'id-sup',
      { ...request, idToken: await idTokenFor(provider, 'alice') },
      { taskQueue: config.taskQueue },
    );
    assert.equal(ack.action, 'started');
    const started = await until('the run started by the supervisor', async () =>
      (await createAuditLog(config).records('id-sup')).find((r) => r.kind === 'run-started'),
    );
    assert.equal(started.actor, 'alice', 'the verified requester, not the declared bob');
    assert.ok(!JWT.test(JSON.stringify(await supervisorStatus(env.client, 'id-sup'))), 'the supervisor keeps no token');

    await assert.rejects(
      pauseSupervisor(env.client, 'id-sup', 'bob', 'maintenance'),
      /pause of id-sup's supervisor refused: no identity token/,
    );
    assert.deepEqual(
      await pauseSupervisor(env.client, 'id-sup', 'anyone', 'maintenance', await idTokenFor(provider, 'bob')),
      { paused: true, by: 'bob' },
    );
    // The old Signal carries a declared name only: here it changes nothing.
    await env.client.workflow.getHandle(workflowIds.supervisor('id-sup')).signal(resumeSignal, { by: 'mallory' });
    const ignored = await until('the ignored signal', async () => loggedLines(/resume signal ignored/)[0]);
    assert.match(String(ignored.msg), /no identity token/);
    assert.equal((await supervisorStatus(env.client, 'id-sup')).paused, true);
  });
});
