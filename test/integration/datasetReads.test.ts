// validateDataset and prepareSplits on the real MinIO: on one worker the dataset is downloaded once; a prepare on
// another worker, with the cache off, or after the object changed reads it again and prepares the same splits.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDataActivities, type DataStageInput } from '../../activities/dataActivities';
import { DatasetCache } from '../../adapters/datasetCache';
import { AppConfig } from '../../core/appConfig';
import type { PreparedData } from '../../core/reports';
import { minioS3, startMinio, type MinioServer } from '../../stack/minio';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { countingStore, type CountingStore } from '../helpers/s3Requests';
import { testLogger } from '../helpers/stack';

const DATASET = ['data/jan.parquet', 'data/feb.parquet'];
const MiB = 1024 * 1024;

describe('dataset reads of validate and prepare', () => {
  let dir: string;
  let minio: MinioServer;
  let config: AppConfig;
  let files: Uint8Array[];
  let runs = 0;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ct-dataset-reads-'));
    minio = await startMinio({ dataDir: path.join(dir, 'minio') });
    config = AppConfig.parse({
      s3: minioS3(minio, 'ct-dataset-reads'),
    });
    const { store } = countingStore(config);
    await store.ensureBucket();
    files = [flightsParquet(await readFlightsSlice(0, 6000)), flightsParquet(await readFlightsSlice(6000, 12000))];
    for (const [i, key] of DATASET.entries()) await store.put(key, files[i]!);
  });
  after(async () => {
    await minio?.process.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A worker's data activities on a store that counts its requests; `cacheBytes` 0: no cache. */
  function worker(cacheBytes: number): CountingStore & ReturnType<typeof createDataActivities> {
    const counted = countingStore(config);
    return {
      ...counted,
      ...createDataActivities({
        store: counted.store,
        logger: testLogger,
        workDir: dir,
        gitCommit: 'test',
        datasetCache: cacheBytes > 0 ? new DatasetCache(cacheBytes) : undefined,
      }),
    };
  }
  const input = (): DataStageInput => ({
    modelId: 'flight-delay',
    runId: `run-${++runs}`,
    config: testModelConfig(),
    datasetKeys: DATASET,
  });
  /** The statuses of the GETs of each dataset file: 200 sent the file, 304 said the kept copy is current. */
  const datasetGets = (w: CountingStore) =>
    DATASET.map((key) => w.sent.filter((r) => r.command === 'GetObjectCommand' && r.key === key).map((r) => r.status));
  /** Runs activities as a worker would (the SDK's activity context), typed by the activity. */
  function activityEnvironment() {
    const env = new MockActivityEnvironment();
    return { run: <A, R>(fn: (a: A) => Promise<R>, a: A) => env.run<[A], R, typeof fn>(fn, a) };
  }
  const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
  /** What prepare made, without the run-specific keys. */
  const splitsOf = (p: PreparedData) => ({
    rows: p.rows,
    sourceDigests: p.sourceDigests,
    splits: Object.fromEntries(Object.entries(p.splits).map(([name, s]) => [name, { rows: s.rows, sha256: s.sha256 }])),
  });

  let onOneWorker: PreparedData;

  it('downloads the dataset once when validate and prepare run on one worker', async () => {
    const w = worker(128 * MiB);
    const env = activityEnvironment();
    const run = input();
    assert.equal((await env.run(w.validateDataset, run)).ok, true);
    onOneWorker = await env.run(w.prepareSplits, run);
    assert.deepEqual(datasetGets(w), [
      [200, 304],
      [200, 304],
    ]);
    assert.deepEqual(onOneWorker.sourceDigests, Object.fromEntries(DATASET.map((key, i) => [key, sha256(files[i]!)])));
  });

  it('prepares the same splits on another worker, or with the cache off, by reading the dataset again', async () => {
    const env = activityEnvironment();
    const validator = worker(128 * MiB);
    const preparer = worker(128 * MiB);
    const run = input();
    await env.run(validator.validateDataset, run);
    assert.deepEqual(splitsOf(await env.run(preparer.prepareSplits, run)), splitsOf(onOneWorker));
    assert.deepEqual(datasetGets(preparer), [[200], [200]]);

    const uncached = worker(0);
    const again = input();
    await env.run(uncached.validateDataset, again);
    assert.deepEqual(splitsOf(await env.run(uncached.prepareSplits, again)), splitsOf(onOneWorker));
    assert.deepEqual(datasetGets(uncached), [
      [200, 200],
      [200, 200],
    ]);
  });

  it('keeps no file larger than the cache, and reads a file that changed after validation', async () => {
    const env = activityEnvironment();
    const small = worker(Math.min(...files.map((f) => f.byteLength)) - 1);
    const run = input();
    await env.run(small.validateDataset, run);
    await env.run(small.prepareSplits, run);
    assert.deepEqual(datasetGets(small), [
      [200, 200],
      [200, 200],
    ]);

    const w = worker(128 * MiB);
    const changed = input();
    await env.run(w.validateDataset, changed);
    const feb = flightsParquet(await readFlightsSlice(6000, 11000));
    await w.store.put(DATASET[1]!, feb);
    const prepared = await env.run(w.prepareSplits, changed);
    assert.deepEqual(datasetGets(w), [
      [200, 304],
      [200, 200],
    ]);
    assert.equal(prepared.sourceDigests[DATASET[1]!], sha256(feb));
    assert.equal(prepared.rows, 11000);
  });
});
