// The audit log on the real MinIO with Object Lock: what a run records, tamper detection, locked records,
// concurrent and crashed appends, and the requests an append costs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { startRetraining } from '../../client';
import { AuditLog } from '../../adapters/auditLog';
import { chainRecord, type AuditEvent, type AuditRecord } from '../../core/audit';
import { createAuditLog } from '../../workers/config';
import { testModelConfig } from '../helpers/flights';
import { ctEnv, runCt } from '../helpers/ct';
import { countingStore, type SentRequest } from '../helpers/s3Requests';
import { flightsTenant, startTestStack, type TestStack } from '../helpers/stack';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const ct = (args: string[], env: NodeJS.ProcessEnv) => runCt(args, env);

describe('audit log', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    stack = await startTestStack();
    tenant = await flightsTenant(stack);
    env = ctEnv(tenant.config);
    await createAuditLog(tenant.config).ensureBucket();
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

  it('appends 20 events concurrently, each also retried at once, into one chain of exactly those 20', async (t) => {
    const counted = countingStore(tenant.config, AuditLog.bucketName(tenant.config));
    const log = new AuditLog(counted.store, tenant.config.audit);
    const event = (i: number) => rollback('m2', `e${i}`, { i });
    const ids = Array.from({ length: 20 }, (_, i) => i);
    const written = await Promise.all([...ids, ...ids].map((i) => log.append(event(i))));
    t.diagnostic(`40 concurrent appends: ${counted.sent.length} requests ${JSON.stringify(counted.byCommand())}`);
    const again = await Promise.all(ids.slice(0, 5).map((i) => log.append(event(i))));
    for (const [i, record] of [...written.slice(20), ...again].entries())
      assert.deepEqual(record, written[i % 20], `every append of e${i % 20} returns the one record of it`);
    const records = await log.records('m2');
    assert.deepEqual(records.map((r) => r.eventId).sort(), ids.map((i) => `e${i}`).sort());
    assert.deepEqual(await log.verify('m2'), { ok: true, records: 20 });
  });

  it('writes an event once when its append crashed after claiming a position, or after writing the record', async () => {
    const counted = countingStore(tenant.config, AuditLog.bucketName(tenant.config));
    const log = new AuditLog(counted.store, tenant.config.audit);
    await log.append(rollback('m3', 'first', {}));
    const isRecord = (r: SentRequest) => r.command === 'PutObjectCommand' && /^audit\/m3\/\d+\.json$/.test(r.key ?? '');
    counted.crashOnce('before', isRecord);
    await assert.rejects(log.append(rollback('m3', 'claimed', {})), /injected crash before/);
    // Another event takes the position the crashed append had claimed.
    await log.append(rollback('m3', 'between', {}));
    const claimed = await log.append(rollback('m3', 'claimed', {}));
    counted.crashOnce('after', isRecord);
    await assert.rejects(log.append(rollback('m3', 'written', {})), /injected crash after/);
    const written = await log.append(rollback('m3', 'written', {}));
    assert.deepEqual(await log.append(rollback('m3', 'claimed', {})), claimed);
    const records = await log.records('m3');
    assert.deepEqual(
      records.map((r) => r.eventId),
      ['first', 'between', 'claimed', 'written'],
    );
    assert.equal(written.seq, 4);
    assert.deepEqual(await log.verify('m3'), { ok: true, records: 4 });
  });

  it('costs the same few requests per append on a chain of 10 records as on one of 300 written before', async (t) => {
    const counted = countingStore(tenant.config, AuditLog.bucketName(tenant.config));
    const log = new AuditLog(counted.store, tenant.config.audit);
    const perAppend: Record<string, number[]> = {};
    for (const [modelId, length] of [
      ['short', 10],
      ['long', 300],
    ] as const) {
      await writeChainAsBefore(log, modelId, length);
      counted.reset();
      // The first append to a chain from before checkpoints also retries the old lookup, and writes one.
      await log.append(rollback(modelId, `${modelId}-upgrade`, {}));
      t.diagnostic(`${modelId} (${length} records), first append: ${JSON.stringify(counted.byCommand())}`);
      perAppend[modelId] = [];
      for (let i = 0; i < 5; i++) {
        counted.reset();
        await log.append(rollback(modelId, `${modelId}-${i}`, { i }));
        perAppend[modelId].push(counted.sent.length);
      }
      t.diagnostic(
        `${modelId}: requests per append ${perAppend[modelId].join(' ')}; last ${JSON.stringify(counted.byCommand())}`,
      );
      assert.deepEqual(await log.verify(modelId), { ok: true, records: length + 6 });
    }
    assert.deepEqual(perAppend.long, perAppend.short);
    // Newest checkpoint, keys after it, head record, claims of the event, the claim, the record.
    assert.ok(
      perAppend.short!.every((n) => n === 6),
      `requests per append: ${perAppend.short!.join(' ')}`,
    );
  });
});

function rollback(modelId: string, eventId: string, details: Record<string, unknown>): AuditEvent {
  return { modelId, kind: 'rollback', actor: 'u', workflowId: null, runId: null, details, eventId };
}

/** A chain as the appends before checkpoints and claims left it: only its records, written directly. */
async function writeChainAsBefore(log: AuditLog, modelId: string, length: number): Promise<void> {
  let previous: AuditRecord | null = null;
  const records: AuditRecord[] = [];
  for (let i = 0; i < length; i++) {
    previous = chainRecord(rollback(modelId, `${modelId}-old-${i}`, { i }), previous, new Date().toISOString(), sha256);
    records.push(previous);
  }
  const limit = pLimit(16);
  await Promise.all(
    records.map((r) =>
      limit(() => log.store.putIfAbsent(`audit/${modelId}/${String(r.seq).padStart(10, '0')}.json`, JSON.stringify(r))),
    ),
  );
}
