// Hostile input through the real entry points that write, on a real stack (Temporal dev server, MinIO, real
// workers): model configs registered as `ct models register` does, drift alerts POSTed to the webhook, retrain
// requests, drift reports and run inputs sent as any client does. A few hundred generated bad inputs are refused,
// and afterwards every object in the bucket is byte-for-byte what it was and no workflow was started.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { signWebhookBody, SIGNATURE_HEADER } from '../../adapters/webhookSignature';
import { startRetraining } from '../../client';
import { reportDrift, requestRetrain } from '../../client/supervisor';
import { registerModelConfig } from '../../cli/models';
import { ModelConfig } from '../../core/modelConfig';
import { InvalidInputError } from '../../core/parse';
import { DriftAlert, RetrainRequest } from '../../core/supervisorMessages';
import { RunInput } from '../../core/runInput';
import { projectRoot } from '../../stack/paths';
import { startWebhook } from '../../triggers/webhook';
import { readStructuredFile } from '../../workers/config';
import { hostileString, junk, mutationOf } from '../helpers/fuzz';
import { startTestStack, testLogger, type TestStack } from '../helpers/stack';

const secret = 'webhook-secret-for-tests';
const SEED = 20_261_202; // fixed: the same few hundred inputs every run
const sample = <T>(arb: fc.Arbitrary<T>, n: number): T[] => fc.sample(arb, { numRuns: n, seed: SEED });
/** `n` generated values that `schema` refuses: junk, and one-field mutations of `valid`. */
const refusedBy = (schema: { safeParse(v: unknown): { success: boolean } }, valid: unknown, n: number) =>
  sample(
    fc
      .oneof(
        junk(),
        mutationOf(valid).map((m) => m.value),
      )
      .filter((v) => !schema.safeParse(v).success),
    n,
  );

/**
 * POSTs `body` with the given signature headers, raw so that one header may appear twice (a raw request names its
 * own host and length); the status and the error it answers.
 */
function post(url: string, body: string, signatures: string[]): Promise<{ status: number; error: string }> {
  const length = String(Buffer.byteLength(body));
  const headers = [
    ...['host', new URL(url).host, 'content-type', 'application/json', 'content-length', length],
    ...signatures.flatMap((s) => [SIGNATURE_HEADER, s]),
  ];
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        let error = text;
        try {
          error = String((JSON.parse(text) as { error?: string }).error);
        } catch {
          // Node's own HTTP parser answers some malformed requests with an empty 400.
        }
        resolve({ status: res.statusCode!, error });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('hostile input changes nothing stored', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  const modelConfig = { ...(readStructuredFile(path.join(projectRoot, 'models', 'flight-delay.yaml')) as object) };
  const alert = { alertId: 'a-1', modelId: 'hooked', source: 'monitoring', datasetDrift: true, window: ['data/a.csv'] };

  /** Every object in the bucket and the sha-256 of its bytes. */
  async function bucket(): Promise<Record<string, string>> {
    const keys = await tenant.store.list('');
    const hashes = await Promise.all(
      keys.map(async (k) =>
        createHash('sha256')
          .update(await tenant.store.getBytes(k))
          .digest('hex'),
      ),
    );
    return Object.fromEntries(keys.map((k, i) => [k, hashes[i]!]));
  }
  async function workflows(): Promise<string[]> {
    const ids: string[] = [];
    for await (const w of stack.client.workflow.list()) ids.push(`${w.workflowId} ${w.status.name}`);
    return ids;
  }

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    await tenant.store.ensureBucket();
    await tenant.store.put('data/a.csv', 'date,delay\n2001-01-01 10:00:00,5\n');
    const file = path.join(stack.dir, 'hooked.json');
    writeFileSync(file, JSON.stringify({ ...modelConfig, modelId: 'hooked' }));
    await registerModelConfig(tenant.store, file);
    await stack.startWorkers(tenant.config);
  });
  after(async () => stack?.stop());

  it('a few hundred refused inputs later, the bucket and the workflows are as they were', async () => {
    const before = await bucket();
    assert.deepEqual(Object.keys(before).sort(), ['data/a.csv', 'registry/hooked/config.json']);
    assert.deepEqual(await workflows(), []);
    const counts = { configs: 0, http: 0, messages: 0 };

    // ct models register: configs that do not parse are refused before anything is written.
    const configs = refusedBy(ModelConfig, { ...modelConfig, modelId: 'hooked' }, 150);
    const file = path.join(stack.dir, 'candidate.json');
    for (const config of configs) {
      writeFileSync(file, JSON.stringify(config) ?? 'undefined');
      await assert.rejects(registerModelConfig(tenant.store, file), InvalidInputError);
      counts.configs++;
    }

    // The webhook: bad signatures (duplicated headers too), stale and future ones, then signed bad bodies.
    const hook = await startWebhook({
      client: stack.client,
      store: tenant.store,
      secret,
      taskQueue: tenant.config.taskQueue,
      logger: testLogger,
      port: 0,
    });
    try {
      const body = JSON.stringify(alert);
      const refused = async (b: string, signatures: string[], status: number, reason: RegExp) => {
        const r = await post(hook.url, b, signatures);
        assert.equal(r.status, status, `${b.slice(0, 200)} ${JSON.stringify(signatures).slice(0, 200)}: ${r.error}`);
        assert.match(r.error, reason);
        counts.http++;
      };
      // Printable ASCII: what an HTTP client can send in a header.
      for (const header of sample(
        hostileString().filter((h) => /^[ -~]*$/.test(h)),
        60,
      ))
        await refused(body, [header], 401, /X-CT-Signature|expected X-CT-Signature/);
      for (let i = 0; i < 10; i++) {
        const h = signWebhookBody(secret, body);
        await refused(body, [h, h], 401, /more than one t=/);
        await refused(body, [`${h}, ${signWebhookBody(secret, body, Date.now() - 1000)}`], 401, /more than one t=/);
      }
      for (const shift of [-86_400_000, -301_000, 301_000, 10 ** 12]) {
        const stale = signWebhookBody(secret, body, Date.now() + shift);
        await refused(body, [stale], 401, shift < 0 ? /s old, outside the 300 s tolerance/ : /in the future/);
      }
      await refused(body, [signWebhookBody('another-secret-of-sixteen', body)], 401, /does not match/);
      await refused('{"alertId":', [signWebhookBody(secret, '{"alertId":')], 400, /body is not JSON/);
      for (const bad of refusedBy(DriftAlert, alert, 100)) {
        const text = JSON.stringify(bad) ?? 'null';
        await refused(text, [signWebhookBody(secret, text)], 400, /^invalid drift alert:\n {2}- /);
      }
    } finally {
      await hook.close();
    }

    // Any Temporal client: the client library parses before it starts or updates anything.
    const options = { taskQueue: tenant.config.taskQueue };
    const request = { requestedBy: 'alice', reason: 'new data', datasetKeys: ['data/a.csv'] };
    for (const bad of refusedBy(RetrainRequest, request, 60)) {
      await assert.rejects(requestRetrain(stack.client, 'hooked', bad as never, options), InvalidInputError);
      counts.messages++;
    }
    for (const id of ['', '../hooked', 'Hooked', 'hooked/../x', 'h\u0000', 'x'.repeat(64)]) {
      await assert.rejects(requestRetrain(stack.client, id, request, options), /invalid model id/);
      counts.messages++;
    }
    for (const bad of refusedBy(DriftAlert, alert, 40)) {
      await assert.rejects(reportDrift(stack.client, bad as never, options), InvalidInputError);
      counts.messages++;
    }
    const runInput = { modelId: 'hooked', dataset: { keys: ['data/a.csv'] } };
    for (const bad of refusedBy(RunInput, runInput, 40)) {
      await assert.rejects(startRetraining(stack.client, bad as never, options), InvalidInputError);
      counts.messages++;
    }

    testLogger.info(counts, 'hostile inputs refused');
    assert.ok(counts.configs + counts.http + counts.messages >= 450, JSON.stringify(counts));
    assert.deepEqual(await bucket(), before, 'every object is byte-for-byte what it was; none was added');
    assert.deepEqual(await workflows(), [], 'no workflow was started');
    await assert.rejects(stack.client.workflow.getHandle('ct/hooked').describe(), /not found/i, 'no supervisor');
  });
});
