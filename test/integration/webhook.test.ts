// The drift-alert webhook on a real stack: timestamped HMAC signatures, refusals that name the problem, and a
// captured request that is worthless once its timestamp is old, even after the supervisor forgot its alert ids.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { hmacSha256Hex } from '../../adapters/hmac';
import { supervisorStatus } from '../../client';
import { keys, workflowIds } from '../../core/keys';
import { freePort } from '../../stack/processes';
import { SIGNATURE_HEADER, signWebhookBody } from '../../adapters/webhookSignature';
import { startWebhook } from '../../triggers/webhook';
import { CT, ctEnv } from '../helpers/ct';
import { testModelConfig } from '../helpers/flights';
import { startTestStack, testLogger, type TestStack } from '../helpers/stack';
import { until } from '../helpers/until';

const secret = 'webhook-secret-for-tests';

describe('drift-alert webhook', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    await tenant.store.ensureBucket();
    await tenant.store.putJson(keys.registeredConfig('hooked'), { ...testModelConfig(), modelId: 'hooked' });
    await stack.startWorkers(tenant.config);
  });
  after(async () => stack?.stop());

  /** POSTs `body` with the given X-CT-Signature (none when undefined); the status and the parsed answer. */
  async function post(
    url: string,
    body: string,
    signature?: string,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const headers = {
      'content-type': 'application/json',
      ...(signature === undefined ? {} : { [SIGNATURE_HEADER]: signature }),
    };
    const res = await fetch(url, { method: 'POST', headers, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('refuses bad, missing and body-only signatures and bad bodies, naming the problem; nothing starts', async () => {
    const hook = await startWebhook({
      client: stack.client,
      store: tenant.store,
      secret,
      taskQueue: tenant.config.taskQueue,
      logger: testLogger,
      port: 0,
    });
    try {
      const alert = JSON.stringify({ alertId: 'ext-1', modelId: 'hooked', source: 'monitoring', datasetDrift: false });
      const refused = async (signature: string | undefined, reason: RegExp) => {
        const r = await post(hook.url, alert, signature);
        assert.equal(r.status, 401, JSON.stringify(r.json));
        assert.match(String(r.json.error), reason);
      };
      await refused(signWebhookBody('not-the-secret', alert), /X-CT-Signature does not match/);
      await refused(undefined, /missing X-CT-Signature header \(expected X-CT-Signature: t=<unix seconds>,v1=/);
      const v1 = signWebhookBody(secret, alert).split(',')[1]!;
      await refused(v1, /no t=<unix seconds> timestamp/);
      await refused(`t=soon,${v1}`, /t="soon" is not a unix time/);
      await refused(`t=${Math.floor(Date.now() / 1000)}`, /no v1= signature/);
      await refused(`t=1,v1=${'0'.repeat(63)}`, /not 64 hex digits/);
      // The old format, even correctly signed: a body-only HMAC can be replayed forever.
      await refused(`sha256=${hmacSha256Hex(secret, alert)}`, /old body-only format "sha256=<hex>"/);
      await refused(signWebhookBody(secret, alert, Date.now() - 301_000), /is 301 s old, outside the 300 s tolerance/);
      await refused(
        signWebhookBody(secret, alert, Date.now() + 400_000),
        /is 400 s in the future, outside the 300 s tolerance/,
      );
      await assert.rejects(
        stack.client.workflow.getHandle(workflowIds.supervisor('hooked')).describe(),
        /not found/i,
        'nothing started',
      );

      // Signed with an old and a new secret while rotating: accepted.
      const ok = await post(hook.url, alert, signWebhookBody(['an-older-secret-being-retired', secret], alert));
      assert.equal(ok.status, 202, JSON.stringify(ok.json));
      assert.equal(ok.json.action, 'recorded');
      const again = await post(hook.url, alert, signWebhookBody(secret, alert));
      assert.equal(again.status, 200);
      assert.equal(again.json.action, 'duplicate');
      assert.equal((await supervisorStatus(stack.client, 'hooked')).reportsReceived, 1);

      const bad = async (body: string, status: number, reason: RegExp) => {
        const r = await post(hook.url, body, signWebhookBody(secret, body));
        assert.equal(r.status, status, JSON.stringify(r.json));
        assert.match(String(r.json.error), reason);
      };
      await bad('{"alertId":', 400, /body is not JSON/);
      await bad(JSON.stringify({ alertId: 'ext-2', modelId: 'hooked', datasetDrift: 'very' }), 400, /datasetDrift/);
      await bad(
        JSON.stringify({ alertId: 'ext-3', modelId: 'nobody', datasetDrift: true }),
        404,
        /unknown model "nobody"/,
      );
      const wrongFeature = { alertId: 'ext-4', modelId: 'hooked', datasetDrift: true, driftedFeatures: ['altitude'] };
      await bad(JSON.stringify(wrongFeature), 422, /unknown feature\(s\) "altitude"/);
    } finally {
      await hook.close();
    }
  });

  it('a captured request replayed after the tolerance is refused, even after the supervisor was terminated', async () => {
    let clock = Date.now();
    const hook = await startWebhook({
      client: stack.client,
      store: tenant.store,
      secret,
      taskQueue: tenant.config.taskQueue,
      logger: testLogger,
      port: 0,
      now: () => clock,
    });
    try {
      const body = JSON.stringify({
        alertId: 'captured-1',
        modelId: 'hooked',
        source: 'monitoring',
        datasetDrift: false,
      });
      const captured = signWebhookBody(secret, body, clock);
      const first = await post(hook.url, body, captured);
      assert.equal(first.status, 202, JSON.stringify(first.json));

      // The supervisor's memory of alert ids is gone: it was terminated (a new one would start on the next alert).
      const supervisor = stack.client.workflow.getHandle(workflowIds.supervisor('hooked'));
      const { runId } = await supervisor.describe();
      await supervisor.terminate('test: forget the alert ids');
      clock += 301_000;
      const replayed = await post(hook.url, body, captured);
      assert.equal(replayed.status, 401, JSON.stringify(replayed.json));
      assert.match(
        String(replayed.json.error),
        /is 301 s old, outside the 300 s tolerance: a replayed or delayed request/,
      );
      const latest = await supervisor.describe();
      assert.equal(latest.runId, runId, 'no new supervisor was started by the replay');
      assert.equal(latest.status.name, 'TERMINATED');

      // The same body, signed afresh by the sender, is a new request: it starts a new supervisor, which (having
      // forgotten) records it. Only the timestamp stopped the replay.
      const fresh = await post(hook.url, body, signWebhookBody(secret, body, clock));
      assert.equal(fresh.status, 202, JSON.stringify(fresh.json));
      assert.equal(fresh.json.action, 'recorded');
      assert.notEqual((await supervisor.describe()).runId, runId);
      assert.equal(
        (await supervisorStatus(stack.client, 'hooked')).reportsReceived,
        1,
        'a new supervisor, counting afresh',
      );
    } finally {
      await hook.close();
    }
  });

  it('ct webhook serves the endpoint with the tolerance from CT_WEBHOOK_TOLERANCE_SECONDS', async () => {
    const port = await freePort();
    const env = {
      ...ctEnv(tenant.config),
      CT_WEBHOOK_SECRET: secret,
      CT_WEBHOOK_PORT: String(port),
      CT_WEBHOOK_TOLERANCE_SECONDS: '60',
    };
    const proc = spawn(process.execPath, [CT, 'webhook'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    try {
      await until('ct webhook listening', async () => out.includes('X-CT-Signature: t=<unix seconds>,v1='), 60_000);
      assert.match(out, /t within 60 s of now/);
      const url = `http://127.0.0.1:${port}/v1/drift-alerts`;
      const body = JSON.stringify({ alertId: 'cli-1', modelId: 'hooked', datasetDrift: false });
      const stale = await post(url, body, signWebhookBody(secret, body, Date.now() - 90_000));
      assert.equal(stale.status, 401);
      assert.match(String(stale.json.error), /is 90 s old, outside the 60 s tolerance/);
      const ok = await post(url, body, signWebhookBody(secret, body));
      assert.equal(ok.status, 202, JSON.stringify(ok.json));
      assert.doesNotMatch(out, new RegExp(secret), 'the secret is never printed or logged');
    } finally {
      proc.kill('SIGINT');
      assert.equal(await exited, 0, out);
    }
  });
});
