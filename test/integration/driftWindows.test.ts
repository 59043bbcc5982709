// Drift windows read in parts against MinIO: a window of several files and row groups checked in parallel parts
// reports exactly what one pass over its rows reports, and each kind of bad window file fails naming the problem.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ByteWriter, ParquetWriter, schemaFromColumnData } from 'hyparquet-writer';
import { startRetraining } from '../../client';
import type { DriftCheckResult } from '../../activities/driftActivities';
import { ObjectChangedError } from '../../adapters/objectStore';
import { planWindowParts, readWindowPart } from '../../adapters/windowFiles';
import { type DriftReport, detectDrift, featureFrame, ReferenceProfile } from '../../core/drift';
import type { Columns } from '../../core/features';
import { keys, workflowIds } from '../../core/keys';
import { ModelConfig } from '../../core/modelConfig';
import type { driftCheck } from '../../workflows';
import { causeChain } from '../helpers/failures';
import { activityRuns } from '../helpers/historyActivities';
import { type FlightRows, flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { startTestStack, type TestStack } from '../helpers/stack';

const modelId = 'flight-windows';

/** Flights as Parquet in row groups of `groupRows` rows. */
function flightsInGroups(rows: FlightRows, groupRows: number): Uint8Array {
  const writer = new ByteWriter();
  const columnData = flightColumns(rows);
  const pq = new ParquetWriter({ writer, schema: schemaFromColumnData({ columnData }) });
  void pq.write({ columnData, rowGroupSize: groupRows });
  void pq.finish();
  return new Uint8Array(writer.getBuffer());
}

function flightColumns(f: FlightRows) {
  return [
    { name: 'date', type: 'TIMESTAMP' as const, data: f.date.map((d) => new Date(d)) },
    { name: 'delay', type: 'INT32' as const, data: f.delay },
    { name: 'distance', type: 'INT32' as const, data: f.distance },
    { name: 'origin', type: 'STRING' as const, data: f.origin },
    { name: 'destination', type: 'STRING' as const, data: f.destination },
  ];
}

/**
 * A file whose footer says `distance` (a feature) is INT32 but whose second row group stores it as DOUBLE: what a writer that
 * appended row groups of another schema leaves behind.
 */
function parquetWithForeignRowGroup(first: FlightRows, second: FlightRows): Uint8Array {
  const writer = new ByteWriter();
  const declared = schemaFromColumnData({ columnData: flightColumns(first) });
  const pq = new ParquetWriter({ writer, schema: declared });
  void pq.write({ columnData: flightColumns(first), rowGroupSize: first.delay.length });
  const other = flightColumns(second).map((c) =>
    c.name === 'distance' ? { name: 'distance', type: 'DOUBLE' as const, data: c.data as number[] } : c,
  );
  pq.schema = schemaFromColumnData({ columnData: other });
  void pq.write({ columnData: other, rowGroupSize: second.delay.length });
  pq.schema = declared;
  void pq.finish();
  return new Uint8Array(writer.getBuffer());
}

const concat = (parts: FlightRows[]): Columns => ({
  date: parts.flatMap((p) => p.date),
  delay: parts.flatMap((p) => p.delay),
  distance: parts.flatMap((p) => p.distance),
  origin: parts.flatMap((p) => p.origin),
  destination: parts.flatMap((p) => p.destination),
});

describe('drift windows read in parts', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  let config: ModelConfig;
  const check = async (id: string, windowKeys: string[]) =>
    stack.client.workflow.execute<typeof driftCheck>('driftCheck', {
      workflowId: workflowIds.driftCheck(modelId, id),
      taskQueue: tenant.config.taskQueue,
      args: [{ modelId, windowKeys }],
    });
  const failureOf = (id: string, windowKeys: string[]) =>
    check(id, windowKeys).then(
      () => assert.fail('the check should fail'),
      (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        return causeChain(err);
      },
    );

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    await tenant.store.ensureBucket();
    await tenant.store.put('train/2001-01.parquet', flightsParquet(await readFlightsSlice(0, 30_000)));
    const base = testModelConfig({ approval: 'auto', hyperparameters: { epochs: 1, batchSize: 4096 } });
    // No gate: this file is about reading windows, any trained champion will do as the reference.
    // Parts of 3,000 rows at least, so that small test files fan out (the default, 250,000, keeps them whole).
    config = ModelConfig.parse({
      ...base,
      modelId,
      dataset: { ...base.dataset, sampleRows: undefined },
      gate: {},
      drift: { ...base.drift, window: { ...base.drift.window, partRows: 3_000 } },
    });
    await tenant.store.putJson(keys.registeredConfig(modelId), config);
    await stack.startWorkers(tenant.config);
    const first = await startRetraining(
      stack.client,
      {
        modelId,
        dataset: { keys: ['train/2001-01.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'test', reason: 'a champion to compare with' },
      },
      { taskQueue: tenant.config.taskQueue },
    );
    const champion = await first.result();
    assert.equal(champion.registered?.version, 1, `the first run ended ${champion.outcome}`);
  });
  after(async () => stack?.stop());

  it('a window of two files in 12 row groups, profiled in parallel parts, reports what one pass over its rows reports', async () => {
    const a = await readFlightsSlice(200_000, 230_000);
    const b = await readFlightsSlice(2_600_000, 2_618_000); // June: some features drift
    await tenant.store.put('check/a.parquet', flightsInGroups(a, 5_000));
    await tenant.store.put('check/b.parquet', flightsInGroups(b, 3_000));
    const result = (await check('parts', ['check/a.parquet', 'check/b.parquet'])) as DriftCheckResult;
    assert.equal(result.status, 'checked');

    const history = await stack.client.workflow.getHandle(workflowIds.driftCheck(modelId, 'parts')).fetchHistory();
    const parts = activityRuns(history).filter((r) => r.type === 'profileWindowPart');
    assert.equal(parts.length, 12, 'one activity per row group (6 + 6, under the 16-part limit)');
    const byDefault = await planWindowParts(tenant.store, ['check/a.parquet', 'check/b.parquet'], 'parquet', {
      maxParts: 16,
      partRows: ModelConfig.parse(testModelConfig()).drift.window.partRows,
    });
    assert.deepEqual(
      byDefault.map((p) => [p.key, p.rowGroups]),
      [
        ['check/a.parquet', [0, 6]],
        ['check/b.parquet', [0, 6]],
      ],
      'by default a small file is one part: an activity per 5,000 rows would cost more than it gains',
    );

    const stored = (await tenant.store.getJson(result.reportKey!)) as { report: DriftReport };
    const reference = ReferenceProfile.parse(await tenant.store.getJson(keys.referenceProfile(modelId, 1)));
    const onePass = detectDrift(reference, featureFrame(config, concat([a, b])), config.drift);
    assert.deepEqual(stored.report.features, onePass.features, 'every feature, metric and count as one pass');
    assert.equal(stored.report.datasetDrift, onePass.datasetDrift);
    assert.deepEqual(await tenant.store.list(`drift/${modelId}/partials/`), [], 'the parts were deleted');
  });

  it('names a window file that is not Parquet despite its name', async () => {
    await tenant.store.put('check/fake.parquet', new TextEncoder().encode('date,delay\n2001-01-01,3\n'));
    const chain = await failureOf('not-parquet', ['check/fake.parquet']);
    assert.match(chain, /check\/fake\.parquet is not a Parquet file despite its name .*it begins "date,delay/);
  });

  it('names the row group and column stored as another type than the file says', async () => {
    const rows = await readFlightsSlice(300_000, 304_000);
    const half = (from: number, to: number): FlightRows => ({
      date: rows.date.slice(from, to),
      delay: rows.delay.slice(from, to),
      distance: rows.distance.slice(from, to),
      origin: rows.origin.slice(from, to),
      destination: rows.destination.slice(from, to),
    });
    await tenant.store.put('check/mixed.parquet', parquetWithForeignRowGroup(half(0, 2_000), half(2_000, 4_000)));
    const chain = await failureOf('mixed-types', ['check/mixed.parquet']);
    assert.match(
      chain,
      /check\/mixed\.parquet row group 1: column "distance" is stored as DOUBLE in row group 1, but the file's schema says INT32/,
    );
  });

  it('a CSV window with a ragged row fails naming the row and line', async () => {
    const csv =
      'date,delay,distance,origin,destination\n2001-01-01T00:00:00Z,3,400,SFO,LAX\n2001-01-01T01:00:00Z,5,400\n';
    await tenant.store.put('check/ragged.csv', new TextEncoder().encode(csv));
    const [part] = await planWindowParts(tenant.store, ['check/ragged.csv'], 'csv', { maxParts: 16, partRows: 1 });
    const types = Object.fromEntries(Object.entries(config.dataset.columns).map(([k, v]) => [k, v.type]));
    const read = async () => {
      for await (const batch of readWindowPart(tenant.store, part!, ['delay', 'origin'], types, 1 << 20)) void batch;
    };
    await assert.rejects(
      read,
      /check\/ragged\.csv is not readable CSV: row 2 \(line 3\) has 3 fields, the header has 5/,
    );
  });

  it('a window file rewritten after it was planned is not read half old, half new: the read fails as changed', async () => {
    await tenant.store.put('check/growing.parquet', flightsInGroups(await readFlightsSlice(400_000, 410_000), 2_000));
    const parts = await planWindowParts(tenant.store, ['check/growing.parquet'], 'parquet', {
      maxParts: 16,
      partRows: 1,
    });
    assert.equal(parts.length, 5);
    await tenant.store.put('check/growing.parquet', flightsInGroups(await readFlightsSlice(400_000, 420_000), 2_000));
    const types = Object.fromEntries(Object.entries(config.dataset.columns).map(([k, v]) => [k, v.type]));
    const read = async () => {
      for await (const batch of readWindowPart(tenant.store, parts[4]!, ['delay'], types, 1 << 20)) void batch;
    };
    await assert.rejects(read, (err: unknown) => {
      assert.ok(err instanceof ObjectChangedError, String(err));
      assert.match(err.message, /check\/growing\.parquet changed while being read \(it was at ETag /);
      return true;
    });
    // The check itself plans against the file as it is now and reads all of it.
    const result = (await check('grown', ['check/growing.parquet'])) as DriftCheckResult;
    assert.equal(result.status, 'checked');
    const stored = (await tenant.store.getJson(result.reportKey!)) as { report: DriftReport };
    assert.equal(stored.report.currentRows, 20_000);
  });
});
