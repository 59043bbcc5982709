// Notifications end to end: real Temporal dev server, real workers, MinIO and a real HTTP receiver on 127.0.0.1 that
// checks every signature. Approval requested (retried after a 500, delivered once), a reminder the receiver always
// refuses with 500 (retried, then a warning, the run still promoted), model promoted; an incident opened by the
// supervisor and the run failing on missing data; and the activity's own dedup by event id.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { decideRun, requestRetrain, runStatus, startRetraining } from '../../client';
import { EVENT_ID_HEADER, createNotifyActivities } from '../../activities/notifyActivities';
import { SIGNATURE_HEADER, signatureProblem } from '../../adapters/webhookSignature';
import { keys } from '../../core/keys';
import { ModelConfig } from '../../core/modelConfig';
import { NotificationBody, type NotificationEvent } from '../../core/notifications';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { loggedLines, recordHistory, startTestStack, testLogger, type TestStack } from '../helpers/stack';
import { until } from '../helpers/until';

const SECRET = 'notify-test-secret-0123';

/** One POST the receiver got: the event id header, whether the signature held, the parsed event. */
interface Received {
  eventId: string;
  signatureProblem: string | null;
  event: NotificationEvent;
  status: number;
}

describe('notifications (dev server, real workers, MinIO, a real HTTP receiver)', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  let receiver: Server;
  let url: string;
  const received: Received[] = [];
  /** The status the receiver answers for an event, by its kind and how often it has seen that id. */
  let answer: (event: NotificationEvent, seen: number) => number = () => 200;

  const ofKind = (kind: string, workflowId?: string) =>
    received.filter((r) => r.event.kind === kind && (!workflowId || r.event.workflowId === workflowId));
  const notifications = (extra: object = {}) => ({
    url,
    webUiUrl: 'http://localhost:8233',
    retry: { initialInterval: '0.2s', maximumAttempts: 3 },
    ...extra,
  });

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = NotificationBody.parse(JSON.parse(raw.toString('utf8')));
        const eventId = req.headers[EVENT_ID_HEADER] as string;
        const event = body.metadata.event_payload;
        const seen = received.filter((r) => r.eventId === eventId).length;
        const status = answer(event, seen);
        received.push({
          eventId,
          signatureProblem: signatureProblem(SECRET, raw, req.headers[SIGNATURE_HEADER] as string, Date.now(), 300),
          event,
          status,
        });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/ct`;
    stack = await startTestStack();
    tenant = stack.tenant();
    tenant.config.notifications.secret = SECRET;
    await tenant.store.ensureBucket();
    await tenant.store.put('data/jan.parquet', flightsParquet(await readFlightsSlice(0, 20_000)));
    await stack.startWorkers(tenant.config);
  });
  after(async () => {
    await stack?.stop();
    receiver?.close();
  });

  it('a manual approval: approval requested (a 500 retried), a reminder refused to the end, model promoted', async () => {
    // The first delivery of approval-requested meets a 500 and is retried; every reminder meets a 500.
    answer = (event, seen) =>
      event.kind === 'reminder' || (event.kind === 'approval-requested' && seen === 0) ? 500 : 200;
    const modelConfig = ModelConfig.parse({
      ...testModelConfig({ approval: 'manual' }),
      modelId: 'notify-manual',
      approval: { mode: 'manual', reminderAfter: '1s' },
      notifications: notifications(),
    });
    const handle = await startRetraining(
      stack.client,
      {
        modelId: 'notify-manual',
        dataset: { keys: ['data/jan.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'alice', reason: 'notification test' },
        modelConfig,
      },
      { taskQueue: tenant.config.taskQueue },
    );
    const { workflowId } = handle;
    await until('the approval wait', async () => (await runStatus(stack.client, workflowId)).stage === 'approval');
    await until('three tries of the reminder', async () => ofKind('reminder', workflowId).length >= 3, 30_000);
    await decideRun(stack.client, workflowId, 'approved', 'bob', 'looks good');
    const result = await handle.result();
    assert.equal(result.outcome, 'promoted', 'a receiver that answers 500 never blocks or fails the run');

    for (const r of received.filter((x) => x.event.workflowId === workflowId)) {
      assert.equal(r.signatureProblem, null, `signature of ${r.eventId}`);
      assert.equal(r.eventId, r.event.id, 'the header carries the event id');
    }
    const requested = ofKind('approval-requested', workflowId);
    assert.deepEqual(
      requested.map((r) => r.status),
      [500, 200],
      'approval-requested: retried after the 500, delivered once',
    );
    assert.equal(new Set(requested.map((r) => r.eventId)).size, 1, 'a retry resends the same event id');
    assert.equal(requested[0]!.eventId, `${workflowId}/${result.runId}/approval-requested/0`);
    assert.match(requested[1]!.event.message, /waits for approval/);
    assert.equal(
      requested[1]!.event.link,
      `http://localhost:8233/namespaces/${stack.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}/${result.runId}/history`,
    );

    const reminders = ofKind('reminder', workflowId);
    assert.equal(reminders.length, 3, 'the reminder: tried maximumAttempts (3) times, then given up');
    assert.equal(new Set(reminders.map((r) => r.eventId)).size, 1);
    const warnings = loggedLines(/notification not delivered/).filter((l) => l.eventId === reminders[0]!.eventId);
    assert.equal(warnings.length, 1, 'the run logs one warning for the undelivered reminder');
    assert.match(String(warnings[0]!.error), /answered HTTP 500/);

    const promoted = ofKind('model-promoted', workflowId);
    assert.equal(promoted.length, 1, 'model-promoted: delivered once');
    assert.equal(promoted[0]!.event.facts.version, String(result.registered?.version));
    assert.match(promoted[0]!.event.message, /approved by bob/);
    await recordHistory(stack.client, 'pipeline-notified', workflowId);
  });

  it('the supervisor opens an incident and its run fails on missing data: incident-opened, then run-failed', async () => {
    answer = () => 200;
    const modelId = 'notify-incident';
    const config = ModelConfig.parse({
      ...testModelConfig({ approval: 'manual' }),
      modelId,
      notifications: notifications({ events: ['incident-opened', 'run-failed'] }),
    });
    await tenant.store.putJson(keys.registeredConfig(modelId), config);
    const ack = await requestRetrain(
      stack.client,
      modelId,
      { requestedBy: 'ana', reason: 'labels arrived', datasetKeys: ['data/missing.parquet'] },
      { taskQueue: tenant.config.taskQueue },
    );
    assert.equal(ack.action, 'started');
    const failed = await until('run-failed', async () => ofKind('run-failed').find((r) => r.event.modelId === modelId));
    const opened = ofKind('incident-opened').filter((r) => r.event.modelId === modelId);
    assert.equal(opened.length, 1, 'incident-opened: once');
    assert.equal(opened[0]!.event.workflowId, `ct/${modelId}`);
    assert.equal(opened[0]!.event.facts.incident, ack.incidentId);
    assert.match(opened[0]!.event.message, /labels arrived/);
    assert.equal(opened[0]!.signatureProblem, null);
    assert.equal(failed.signatureProblem, null);
    assert.equal(failed.event.facts.stage, 'validate');
    assert.match(failed.event.message, /no object at s3:\/\/.*data\/missing\.parquet/);
    assert.equal(ofKind('run-failed', failed.event.workflowId).length, 1, 'run-failed: once');
    await recordHistory(stack.client, 'supervisor-notify-incident', `ct/${modelId}`);
  });

  it('the notify activity posts an event id once, does not retry a 4xx, retries a 429', async () => {
    const { notify } = createNotifyActivities({
      store: tenant.store,
      logger: testLogger,
      workDir: stack.dir,
      gitCommit: 'test',
      notifySecret: SECRET,
    });
    const event = {
      id: 'dedup-test/run/model-promoted/0',
      kind: 'model-promoted' as const,
      modelId: 'dedup',
      workflowId: 'dedup-test',
      runId: 'run',
      at: new Date().toISOString(),
      message: 'dedup v1 is the champion now',
    };
    const env = new MockActivityEnvironment();
    assert.deepEqual(await env.run(notify, { url, event }), { delivered: true, duplicate: false });
    assert.deepEqual(await env.run(notify, { url, event }), { delivered: true, duplicate: true });
    assert.equal(received.filter((r) => r.eventId === event.id).length, 1, 'posted once');
    assert.ok(await tenant.store.exists(keys.notificationDelivered(event.id)));

    answer = () => 410;
    const refused = { ...event, id: 'dedup-test/run/model-promoted/1' };
    const err = await env.run(notify, { url, event: refused }).then(
      () => assert.fail('a 410 is refused'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure && err.nonRetryable, String(err));
    assert.equal(err.type, 'NotificationRefused');
    assert.match(err.message, /refused model-promoted .*HTTP 410/);
    assert.ok(!err.message.includes('/hooks/ct'), 'the path (where tokens live) is not in the message');

    answer = () => 429; // a rate limit says "later": a retryable failure
    const limited = { ...event, id: 'dedup-test/run/model-promoted/2' };
    await assert.rejects(env.run(notify, { url, event: limited }), (e: unknown) => {
      assert.ok(!(e instanceof ApplicationFailure && e.nonRetryable), String(e));
      assert.match((e as Error).message, /answered HTTP 429/);
      return true;
    });
    assert.equal(await tenant.store.exists(keys.notificationDelivered(limited.id)), false, 'not marked delivered');
  });
});
