// The S3 registry and object store against the real MinIO: idempotent registration, concurrent
// registrations, recovery from a crash half-way, versioned bucket, multipart round trip.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetBucketVersioningCommand } from '@aws-sdk/client-s3';
import { listVersions, moveAlias, readChampion, registerVersion, setAlias } from '../../adapters/registryStore';
import { keys } from '../../core/keys';
import type { ModelCard } from '../../core/modelCard';
import { startTestStack, type TestStack } from '../helpers/stack';
import { cardFromHistory } from '../helpers/cards';

describe('S3 registry and object store', () => {
  let stack: TestStack;
  let store: ReturnType<TestStack['tenant']>['store'];
  const card = (runId: string) => ({
    ...cardFromHistory(),
    run: { workflowId: `w-${runId}`, runId, trigger: { kind: 'manual' as const, requestedBy: 't', reason: '' } },
  });

  before(async () => {
    stack = await startTestStack();
    store = stack.tenant().store;
    await store.ensureBucket();
    await store.put('runs/m/model.pt', 'weights');
  });
  after(async () => stack?.stop());

  it('creates the bucket with versioning, idempotently', async () => {
    await store.ensureBucket();
    const v = await store.client.send(new GetBucketVersioningCommand({ Bucket: store.bucket }));
    assert.equal(v.Status, 'Enabled');
  });

  it('registers a run exactly once, however often it is retried', async () => {
    const first = await registerVersion(store, card('run-1'), 'runs/m/model.pt');
    const again = await registerVersion(store, card('run-1'), 'runs/m/model.pt');
    assert.deepEqual(first, { version: 1, alreadyRegistered: false });
    assert.deepEqual(again, { version: 1, alreadyRegistered: true });
    assert.deepEqual(await listVersions(store, 'm'), [1]);
    assert.equal(Buffer.from(await store.getBytes(keys.versionArtifact('m', 1))).toString(), 'weights');
    assert.match(Buffer.from(await store.getBytes(keys.versionCardMarkdown('m', 1))).toString(), /^# m v1/);
  });

  it('completes a registration that crashed after claiming its version', async () => {
    const full: ModelCard = { ...card('run-crash'), version: 2, artifactKey: keys.versionArtifact('m', 2) };
    assert.ok(await store.putIfAbsent(keys.versionCard('m', 2), JSON.stringify(full)));
    const r = await registerVersion(store, card('run-crash'), 'runs/m/model.pt');
    assert.deepEqual(r, { version: 2, alreadyRegistered: true });
    assert.ok(await store.exists(keys.versionArtifact('m', 2)), 'artifact copied on recovery');
    assert.ok(await store.exists(keys.runRegistration('m', 'run-crash')));
  });

  it('gives concurrent registrations distinct versions (conditional writes)', async () => {
    const results = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((id) => registerVersion(store, card(`run-${id}`), 'runs/m/model.pt')),
    );
    assert.deepEqual(results.map((r) => r.version).sort(), [3, 4, 5, 6, 7]);
    assert.deepEqual(await listVersions(store, 'm'), [1, 2, 3, 4, 5, 6, 7]);
  });

  it('moves the champion alias', async () => {
    await setAlias(store, 'm', 'champion', 4, 'run-c', new Date());
    const champion = await readChampion(store, 'm');
    assert.equal(champion?.version, 4);
    assert.equal(champion?.card.version, 4);
  });

  it('lets exactly one of several concurrent promotions from the same champion win', async () => {
    const results = await Promise.all(
      [3, 5, 6, 7].map((v) => moveAlias(store, 'm', 'champion', v, `run-${v}`, 4, new Date())),
    );
    assert.equal(results.filter((r) => r.moved).length, 1, JSON.stringify(results));
    const winner = [3, 5, 6, 7][results.findIndex((r) => r.moved)]!;
    assert.equal((await readChampion(store, 'm'))?.version, winner);
    assert.deepEqual(
      await moveAlias(store, 'm', 'champion', 2, 'late', 4, new Date()),
      { moved: false, current: winner },
      'a stale expectation loses',
    );
    assert.deepEqual(
      await moveAlias(store, 'm', 'champion', winner, 'retry', 4, new Date()),
      { moved: true, current: winner },
      'retrying the winner is idempotent',
    );
  });

  it('round-trips a large file with multipart upload', async () => {
    const file = path.join(stack.dir, 'big.bin');
    const bytes = randomBytes(20 * 1024 * 1024);
    writeFileSync(file, bytes);
    await store.uploadFile('big/big.bin', file);
    const back = path.join(stack.dir, 'back.bin');
    await store.downloadFile('big/big.bin', back);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.equal(sha(readFileSync(back)), sha(bytes));
    await assert.rejects(store.downloadFile('big/none.bin', back), /no object at s3:\/\/.*big\/none\.bin/);
  });
});
