// The audit log on the real MinIO with Object Lock: what a run records, tamper detection, locked records.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startRetraining } from '../../client';
import { createAuditLog } from '../../workers/config';
import { testModelConfig } from '../helpers/flights';
import { ctEnv, runCt } from '../helpers/ct';
import { flightsTenant, startTestStack, type TestStack } from '../helpers/stack';

const ct = (args: string[], env: NodeJS.ProcessEnv) => runCt(args, env);

describe('audit log', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    stack = await startTestStack();
    tenant = await flightsTenant(stack);
    env = ctEnv(tenant.config);
  });
  after(async () => stack?.stop());

  it('records why a run started, the gate verdict, the decision and the promotion, in a chain that verifies', async () => {
    const handle = await startRetraining(
      stack.client,
      {
        modelId: 'flight-delay',
        dataset: { keys: ['data/jan.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'alice', reason: 'audit test' },
        modelConfig: testModelConfig(),
      },
      { taskQueue: tenant.config.taskQueue },
    );
    const result = await handle.result();
    assert.equal(result.outcome, 'promoted');
    const log = createAuditLog(tenant.config);
    const records = await log.records('flight-delay');
    assert.deepEqual(
      records.map((r) => `${r.kind}:${r.actor}`),
      ['run-started:alice', 'gate-verdict:system', 'decision:policy', 'promotion:policy'],
    );
    assert.equal(records[3]!.details.version, result.registered!.version);
    const verify = await ct(['audit', 'verify', 'flight-delay'], env);
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout, /audit chain intact \(4 records\)/);
    const show = await ct(['audit', 'show', 'flight-delay'], env);
    assert.match(show.stdout, /#2 .* gate-verdict +by system/);
  });

  it('keeps each record write-once: its version cannot be deleted before retention ends', async () => {
    const log = createAuditLog(tenant.config);
    const key = 'audit/flight-delay/0000000001.json';
    const versions = await log.store.client.send(
      new ListObjectVersionsCommand({ Bucket: log.store.bucket, Prefix: key }),
    );
    const original = versions.Versions![0]!.VersionId;
    await assert.rejects(
      log.store.client.send(new DeleteObjectCommand({ Bucket: log.store.bucket, Key: key, VersionId: original })),
      /locked|retention|AccessDenied|WORM/i,
    );
  });

  it('detects a modified record and names the first broken link', async () => {
    const log = createAuditLog(tenant.config);
    const key = 'audit/flight-delay/0000000002.json';
    const record = (await log.store.getJson(key)) as { details: { passed: boolean } };
    record.details.passed = !record.details.passed;
    // The locked version stays; a new version on top is what a tamperer can do, and what verify must catch.
    await log.store.client.send(
      new PutObjectCommand({ Bucket: log.store.bucket, Key: key, Body: JSON.stringify(record) }),
    );
    const verify = await ct(['audit', 'verify', 'flight-delay'], env);
    assert.equal(verify.status, 3);
    assert.match(verify.stdout, /audit chain BROKEN at record 2 of 4: content does not match its hash/);
  });

  it('appends concurrently without forking the chain, and a retried append is written once', async () => {
    const log = createAuditLog(tenant.config);
    const appends = Array.from({ length: 8 }, (_, i) =>
      log.append({
        modelId: 'm2',
        kind: 'rollback',
        actor: `u${i}`,
        workflowId: null,
        runId: null,
        details: { i },
        eventId: `e${i}`,
      }),
    );
    await Promise.all(appends);
    await log.append({
      modelId: 'm2',
      kind: 'rollback',
      actor: 'u3',
      workflowId: null,
      runId: null,
      details: { i: 3 },
      eventId: 'e3',
    });
    const records = await log.records('m2');
    assert.equal(records.length, 8);
    assert.deepEqual(await log.verify('m2'), { ok: true, records: 8 });
  });
});
