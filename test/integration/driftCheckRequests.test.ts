// What a drift check costs in S3 requests, on the real MinIO: the single-pass check reads the champion's alias, its
// card and its reference profile once each, whatever it does with them (1,000 models × a check every few minutes
// makes each request count), and the fanned-out check reads the profile once per step, as each step may run elsewhere.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDriftActivities } from '../../activities/driftActivities';
import { readParquet } from '../../adapters/datasetFiles';
import { AppConfig } from '../../core/appConfig';
import { featureFrame, profileReference } from '../../core/drift';
import { keys } from '../../core/keys';
import type { ModelCard } from '../../core/modelCard';
import { minioS3, startMinio, type MinioServer } from '../../stack/minio';
import { cardFromHistory } from '../helpers/cards';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { countingStore, type CountingStore } from '../helpers/s3Requests';
import { testLogger } from '../helpers/stack';

const MODEL = 'flight-delay';
const WINDOW = ['data/window.parquet'];

describe('S3 requests of a drift check', () => {
  let dir: string;
  let minio: MinioServer;
  let config: AppConfig;
  const modelConfig = testModelConfig();

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ct-drift-requests-'));
    minio = await startMinio({ dataDir: path.join(dir, 'minio') });
    config = AppConfig.parse({
      s3: minioS3(minio, 'ct-drift-requests'),
    });
    const { store } = countingStore(config);
    await store.ensureBucket();
    const reference = flightsParquet(await readFlightsSlice(0, 4000));
    await store.put(WINDOW[0]!, flightsParquet(await readFlightsSlice(4000, 8000)));
    // A registered champion: its alias, its card and the reference profile of its (January) data.
    const card: ModelCard = { ...cardFromHistory(), modelId: MODEL, version: 1, artifactKey: 'registry/a/model.pt' };
    await store.putJson(keys.versionCard(MODEL, 1), card);
    await store.putJson(keys.alias(MODEL, 'champion'), { version: 1, runId: 'r', updatedAt: new Date().toISOString() });
    const { columns } = await readParquet(reference, 'reference.parquet');
    await store.putJson(
      keys.referenceProfile(MODEL, 1),
      profileReference(featureFrame(modelConfig, columns, 'reference'), modelConfig.drift),
    );
  });
  after(async () => {
    await minio?.process.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function worker(): CountingStore & ReturnType<typeof createDriftActivities> {
    const counted = countingStore(config);
    return {
      ...counted,
      ...createDriftActivities({ store: counted.store, logger: testLogger, workDir: dir, gitCommit: 'test' }),
    };
  }
  /** Runs activities as a worker would (the SDK's activity context), typed by the activity. */
  const mock = new MockActivityEnvironment();
  const env = { run: <A, R>(fn: (a: A) => Promise<R>, a: A) => mock.run<[A], R, typeof fn>(fn, a) };
  const gets = (w: CountingStore, key: string) =>
    w.sent.filter((r) => r.command === 'GetObjectCommand' && r.key === key).length;
  const registryReads = (w: CountingStore) => ({
    alias: gets(w, keys.alias(MODEL, 'champion')),
    card: gets(w, keys.versionCard(MODEL, 1)),
    profile: gets(w, keys.referenceProfile(MODEL, 1)),
  });

  it('reads the alias, the card and the reference profile once each in a single-pass check', async (t) => {
    const w = worker();
    const input = { modelId: MODEL, config: modelConfig, windowKeys: WINDOW, checkId: 'single' };
    const result = await env.run(w.checkDriftWindow, input);
    assert.equal(result.status, 'checked', result.reason);
    t.diagnostic(`requests: ${w.sent.length} ${JSON.stringify(w.byCommand())}`);
    assert.deepEqual(registryReads(w), { alias: 1, card: 1, profile: 1 });
  });

  it('reads the card once, and the profile once in each step, when the check is fanned out', async () => {
    const w = worker();
    const planned = await env.run(w.planDriftCheck, { modelId: MODEL, config: modelConfig, windowKeys: WINDOW });
    assert.ok('plan' in planned, JSON.stringify(planned));
    const partials = [];
    for (const [index, part] of planned.plan.parts.entries())
      partials.push(
        await env.run(w.profileWindowPart, {
          modelId: MODEL,
          config: modelConfig,
          championVersion: planned.plan.championVersion,
          checkId: 'fanned',
          index,
          part,
        }),
      );
    const result = await env.run(w.finishDriftCheck, {
      modelId: MODEL,
      config: modelConfig,
      checkId: 'fanned',
      plan: planned.plan,
      partialKeys: partials.map((p) => p.key),
    });
    assert.equal(result.status, 'checked', result.reason);
    assert.deepEqual(registryReads(w), { alias: 1, card: 1, profile: 1 + partials.length + 1 });
  });
});
