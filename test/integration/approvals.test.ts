// Governance on the time-skipping test server (hours and days pass in seconds) with real workers, the real
// trainer and MinIO: who may approve, quorum, and reminder → escalation → automatic rejection at their times.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { decideRun, runStatus, startRetraining } from '../../client';
import { issueGovernanceToken } from '../../adapters/governanceKeys';
import { AppConfig } from '../../core/appConfig';
import { NotificationBody } from '../../core/notifications';
import { minioS3, startMinio, type MinioServer as Minio } from '../../stack/minio';
import { tools } from '../../stack/paths';
import { createAuditLog, createObjectStore } from '../../workers/config';
import { startInProcessWorkers, type RunningWorkers } from '../../workers/inProcess';
import { installRuntimeLogger } from '../../workers/runtime';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { recordHistory, testLogger, timeSkippingEnvironment, workflowBundle } from '../helpers/stack';
import { startTestCodecServer, TEST_CODEC_KEYS } from '../helpers/codec';

const SECRET = 'test-approval-secret-0123';
const execFileAsync = promisify(execFile);
const approval = {
  mode: 'manual' as const,
  roles: { 'ml-lead': ['alice', 'bob', 'dave'], risk: ['carol'] },
  approverRoles: ['ml-lead'],
  escalationRoles: ['risk'],
  quorum: 2,
  reminderAfter: '1h',
  escalateAfter: '4h',
  rejectAfter: '1d',
};

describe('approvals (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let minio: Minio;
  let workers: RunningWorkers;
  let config: AppConfig;
  let dir: string;
  let webhook: http.Server;
  const notifications: { kind: string; approvers: string[]; at: string }[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ct-approvals-'));
    installRuntimeLogger(testLogger);
    env = await timeSkippingEnvironment();
    minio = await startMinio({ dataDir: path.join(dir, 'minio') });
    webhook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { metadata } = NotificationBody.parse(JSON.parse(body));
        notifications.push(metadata.event_payload);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    config = AppConfig.parse({
      temporal: { address: env.address, namespace: 'default' },
      s3: minioS3(minio, 'ct-approvals'),
      taskQueue: 'ct-approvals',
      workDir: path.join(dir, 'work'),
      approvalSecret: SECRET,
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
    await minio?.process.stop();
    webhook?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (modelId: string, overrides: object = {}) => {
    const { port } = webhook.address() as { port: number };
    const modelConfig = {
      ...testModelConfig(),
      modelId,
      approval: { ...approval, notifyUrl: `http://127.0.0.1:${port}/notify`, ...overrides },
    };
    const handle = await startRetraining(
      env.client,
      {
        modelId,
        dataset: { keys: ['data/jan.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'alice', reason: 'test' },
        modelConfig,
      },
      { taskQueue: config.taskQueue },
    );
    for (let i = 0; i < 600 && (await runStatus(env.client, handle.workflowId)).stage !== 'approval'; i++)
      await new Promise((r) => setTimeout(r, 100));
    return handle;
  };

  it('refuses outsiders, the requester and decisions after the fact; counts a duplicate once; needs 2 distinct approvers', async () => {
    const handle = await start('gov-quorum');
    await assert.rejects(
      decideRun(env.client, handle.workflowId, 'approved', 'mallory'),
      /mallory is not in an approver role of this model \(ml-lead\)/,
    );
    // The official Temporal CLI shows the refusal as final (asynchronously: the workers run in this process); the
    // message is encrypted, so it reads it through the codec server.
    const codec = await startTestCodecServer();
    const cli = await execFileAsync(tools.temporal, [
      ...codec.cliFlags,
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      handle.workflowId,
      '--name',
      'approve',
      '--input',
      '{"by":"mallory"}',
      '--address',
      env.address,
      '--namespace',
      'default',
    ]).then(
      () => assert.fail('the CLI should report the refusal'),
      (err: { stderr: string }) => err,
    );
    await codec.close();
    assert.match(
      cli.stderr,
      /mallory is not in an approver role of this model \(ml-lead\) \(type: ApprovalRefused, retryable: false\)/,
    );
    await assert.rejects(
      decideRun(env.client, handle.workflowId, 'approved', 'alice'),
      /separation of duties: alice requested this run/,
    );
    assert.deepEqual(await decideRun(env.client, handle.workflowId, 'approved', 'bob', 'ok'), {
      decision: null,
      approvals: 1,
      quorum: 2,
    });
    assert.deepEqual(
      await decideRun(env.client, handle.workflowId, 'approved', 'bob', 'again'),
      { decision: null, approvals: 1, quorum: 2 },
      'the same approver counts once',
    );
    const second = await decideRun(env.client, handle.workflowId, 'approved', 'dave');
    assert.equal(second.decision?.outcome, 'approved');
    assert.deepEqual(
      second.decision?.approvals.map((a) => a.by),
      ['bob', 'dave'],
    );
    await assert.rejects(
      decideRun(env.client, handle.workflowId, 'rejected', 'bob'),
      /run already approved by dave|not awaiting approval/,
    );
    const result = await handle.result();
    assert.equal(result.outcome, 'promoted');
    const audit = await createAuditLog(config).records('gov-quorum');
    assert.deepEqual(
      audit.map((r) => `${r.kind}:${r.actor}`),
      ['run-started:alice', 'gate-verdict:system', 'approval:bob', 'approval:dave', 'decision:dave', 'promotion:dave'],
    );
  });

  it('reminds after 1h, escalates after 4h to the escalation role, and rejects after 1d without a decision', async () => {
    const handle = await start('gov-timeout');
    await assert.rejects(
      decideRun(env.client, handle.workflowId, 'approved', 'carol'),
      /carol is not in an approver role/,
    );
    notifications.length = 0;
    const result = await handle.result(); // the server skips time while we wait: 1 day passes in seconds
    assert.equal(result.outcome, 'rejected');
    assert.deepEqual([result.decision?.by, result.decision?.mode], ['timeout', 'timeout']);
    assert.deepEqual(
      notifications.map((n) => n.kind),
      ['reminder', 'escalation'],
    );
    assert.deepEqual(notifications[1]!.approvers, ['alice', 'bob', 'dave', 'carol']);
    const approvalStage = result.timings.find((t) => t.stage === 'approval')!;
    const after = (at: string) => (Date.parse(at) - Date.parse(approvalStage.startedAt)) / 1000;
    assert.ok(Math.abs(after(notifications[0]!.at) - 3_600) < 5, `reminder after ${after(notifications[0]!.at)}s`);
    assert.ok(Math.abs(after(notifications[1]!.at) - 14_400) < 5, `escalation after ${after(notifications[1]!.at)}s`);
    assert.ok(
      Math.abs(approvalStage.seconds! - 86_400) < 5,
      `rejected after ${approvalStage.seconds}s of workflow time`,
    );
    const audit = await createAuditLog(config).records('gov-timeout');
    assert.ok(audit.some((r) => r.kind === 'escalation'));
    assert.equal(audit.find((r) => r.kind === 'decision')?.actor, 'timeout');
    await recordHistory(env.client, 'pipeline-approval-deadlines', handle.workflowId);
  });

  it('with signed approvals, only an unused token issued for that approver and that run id counts', async () => {
    const modelId = 'gov-signed';
    const workflowId = `retrain/${modelId}/same-id`;
    const { port } = webhook.address() as { port: number };
    const modelConfig = {
      ...testModelConfig(),
      modelId,
      approval: { ...approval, quorum: 2, signedApprovals: true, notifyUrl: `http://127.0.0.1:${port}/n` },
    };
    const startRun = async () => {
      const h = await startRetraining(
        env.client,
        {
          modelId,
          dataset: { keys: ['data/jan.parquet'] },
          trigger: { kind: 'manual', requestedBy: 'alice', reason: 'test' },
          modelConfig,
        },
        { taskQueue: config.taskQueue, workflowId },
      );
      for (let i = 0; i < 600 && (await runStatus(env.client, workflowId)).stage !== 'approval'; i++)
        await new Promise((r) => setTimeout(r, 100));
      return h;
    };
    // Tokens expire by workflow time, which this server skips ahead: issue them on its clock.
    const token = async (by: string, runId: string, secret = SECRET) =>
      issueGovernanceToken(secret, by, { act: 'decide-run', workflowId, runId }, 3_600_000, await env.currentTimeMs());
    const accepted = async (runId: string) =>
      (await env.client.workflow.getHandle(workflowId, runId).fetchHistory()).events!.filter(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
      ).length;

    const first = await startRun();
    const firstRunId = first.firstExecutionRunId;
    const tokenForFirst = await token('bob', firstRunId);
    await decideRun(env.client, workflowId, 'rejected', 'dave', 'first run', await token('dave', firstRunId));
    assert.equal((await first.result()).outcome, 'rejected');

    // The same workflow id again: a token of the finished run is worth nothing here.
    const second = await startRun();
    const runId = second.firstExecutionRunId;
    await assert.rejects(decideRun(env.client, workflowId, 'approved', 'bob'), /requires a signed approval token/);
    await assert.rejects(
      decideRun(env.client, workflowId, 'approved', 'bob', '', tokenForFirst),
      new RegExp(
        `approval token refused: token was issued for run ${workflowId} \\(run id ${firstRunId}\\), not run ${workflowId} \\(run id ${runId}\\)`,
      ),
    );
    await assert.rejects(
      decideRun(env.client, workflowId, 'approved', 'bob', '', await token('bob', runId, 'forged-secret-0123456')),
      /approval token refused: signature does not match/,
    );
    await assert.rejects(
      decideRun(env.client, workflowId, 'approved', 'bob', '', await token('dave', runId)),
      /approval token refused: token was issued to dave, not bob/,
    );
    const bobs = await token('bob', runId);
    assert.deepEqual(await decideRun(env.client, workflowId, 'approved', 'bob', 'signed', bobs), {
      decision: null,
      approvals: 1,
      quorum: 2,
    });
    const reuse = await decideRun(env.client, workflowId, 'approved', 'bob', 'again', bobs).then(
      () => assert.fail('a reused token must be refused'),
      (err: unknown) => err as Error,
    );
    assert.match(reuse.message, /approval token refused: this token was already used on this run/);
    // A refusal is final (non-retryable) and was never accepted: history holds one accepted Update, bob's.
    const failure = (reuse.cause as WorkflowUpdateFailedError).cause as ApplicationFailure;
    assert.ok(failure instanceof ApplicationFailure && failure.nonRetryable, 'a refused decision is not retryable');
    assert.equal(await accepted(runId), 1, 'refused decisions are not accepted Updates');
    const r = await decideRun(env.client, workflowId, 'approved', 'dave', 'signed', await token('dave', runId));
    assert.equal(r.decision?.by, 'dave');
    assert.equal((await second.result()).outcome, 'promoted');
    assert.equal(await accepted(runId), 2);
    await recordHistory(env.client, 'pipeline-signed-approvals', workflowId, runId);
  });

  it('the auto-approve policy decides as "policy" and records its evidence; when it does not hold, people decide', async () => {
    const { port } = webhook.address() as { port: number };
    const modelId = 'gov-policy';
    const policyConfig = (minMargin: number) => ({
      ...testModelConfig(),
      modelId,
      approval: {
        ...approval,
        mode: 'policy' as const,
        quorum: 1,
        notifyUrl: `http://127.0.0.1:${port}/n`,
        autoApprove: { minMargin: { rocAuc: minMargin }, noSliceRegression: false },
      },
    });
    const first = await startRetraining(
      env.client,
      { modelId, dataset: { keys: ['data/jan.parquet'] }, modelConfig: policyConfig(0) },
      { taskQueue: config.taskQueue },
    );
    const r1 = await first.result();
    assert.deepEqual([r1.outcome, r1.decision?.by, r1.decision?.mode], ['promoted', 'policy', 'policy']);
    assert.ok(r1.decision!.evidence.includes('gate passed'), r1.decision!.evidence.join('; '));
    await recordHistory(env.client, 'pipeline-approval-policy', first.workflowId);
    // Against that champion, an impossible margin: the policy does not hold and the run waits for a person.
    const second = await startRetraining(
      env.client,
      {
        modelId,
        dataset: { keys: ['data/jan.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'alice', reason: 'margin' },
        modelConfig: policyConfig(0.5),
      },
      { taskQueue: config.taskQueue },
    );
    for (let i = 0; i < 600 && (await runStatus(env.client, second.workflowId)).stage !== 'approval'; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal((await runStatus(env.client, second.workflowId)).decision, null);
    await decideRun(env.client, second.workflowId, 'rejected', 'bob', 'no gain');
    assert.equal((await second.result()).outcome, 'rejected');
  });

  it('after escalation, a member of the escalation role can complete the quorum', async () => {
    const handle = await start('gov-escalate', { quorum: 1 });
    await env.sleep('5h');
    const r = await decideRun(env.client, handle.workflowId, 'approved', 'carol', 'risk sign-off');
    assert.equal(r.decision?.by, 'carol');
    assert.equal((await handle.result()).outcome, 'promoted');
  });
});
