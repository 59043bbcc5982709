// Bad input never reaches training: each case fails with a clear, non-retried error that names the problem.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startRetraining } from '../../client';
import { loadModelConfigFile } from '../../cli/models';
import { keys } from '../../core/keys';
import { InvalidInputError } from '../../core/parse';
import { freePort } from '../../stack/processes';
import { activityRuns } from '../helpers/historyActivities';
import { flightsParquet, readFlightsSlice, testModelConfig, type FlightRows } from '../helpers/flights';
import { startTestStack, type TestStack } from '../helpers/stack';

async function failureOf(handle: WorkflowHandle): Promise<ApplicationFailure> {
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, `expected the run to fail, got ${String(err)}`);
  assert.ok(err.cause instanceof ApplicationFailure);
  return err.cause;
}

async function activitiesRun(handle: WorkflowHandle): Promise<string[]> {
  return activityRuns(await handle.fetchHistory())
    .map((run) => run.type)
    .filter((name) => name !== 'recordAudit');
}

describe('bad input', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  let flights: FlightRows;
  const start = (input: Parameters<typeof startRetraining>[1]) =>
    startRetraining(stack.client, input, { taskQueue: tenant.config.taskQueue });

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    await tenant.store.ensureBucket();
    flights = await readFlightsSlice(0, 20_000);
    await tenant.store.put('data/good.parquet', flightsParquet(flights));
    await stack.startWorkers(tenant.config);
  });
  after(async () => stack?.stop());

  it('rejects an invalid model config file, naming the field path', () => {
    const file = path.join(stack.dir, 'bad.yaml');
    writeFileSync(
      file,
      'modelId: Bad_Id\ndataset: { format: xls, timeColumn: date, columns: { date: { type: timestamp } } }\nfeatures: [{ name: f, type: numeric, source: nope }]\nlabel: { source: date, positiveWhen: { op: ">", value: 1 } }\ntrainer: { command: [] }\ntracking: { mlflow: { uri: "ftp://mlflow", experiment: "" } }\n',
    );
    assert.throws(
      () => loadModelConfigFile(file),
      (err: unknown) => {
        assert.ok(err instanceof InvalidInputError);
        assert.match(err.message, /modelId: model ids are/);
        assert.match(err.message, /dataset\.format: /);
        assert.match(err.message, /trainer\.command: /);
        assert.match(err.message, /tracking\.mlflow\.uri: the MLflow tracking server's http\(s\) URL/);
        assert.match(err.message, /tracking\.mlflow\.experiment: name the MLflow experiment/);
        return true;
      },
    );
    writeFileSync(file, 'modelId: m\n  bad: [yaml');
    assert.throws(() => loadModelConfigFile(file), /bad\.yaml:\n {2}- not valid YAML/);
  });

  it('rejects an invalid run input on the client and in the workflow (any Temporal client)', async () => {
    await assert.rejects(
      start({ modelId: 'flight-delay', dataset: { keys: ['s3://bucket/key'] } }),
      /dataset\.keys\[0\]: object key "s3:\/\/bucket\/key" is not relative to the bucket: give it without s3:\/\/ or a leading \//,
    );
    const handle = await stack.client.workflow.start('retrainingPipeline', {
      taskQueue: tenant.config.taskQueue,
      workflowId: 'raw-bad-input',
      args: [{ modelId: 'flight-delay', dataset: { keys: [] }, modelConfig: { ...testModelConfig(), seed: -1 } }],
    });
    const failure = await failureOf(handle);
    assert.equal(failure.type, 'InvalidInput');
    assert.match(failure.message, /dataset\.keys: /);
    assert.match(failure.message, /modelConfig\.seed: /);
    assert.deepEqual(await activitiesRun(handle), []);
  });

  it('fails when the model has no registered config', async () => {
    const failure = await failureOf(
      await start({ modelId: 'never-registered', dataset: { keys: ['data/good.parquet'] } }),
    );
    assert.equal(failure.type, 'ModelConfigNotFound');
    assert.match(failure.message, /never-registered.*ct models register/);
  });

  it('fails on a missing dataset key before any training', async () => {
    const handle = await start({
      modelId: 'flight-delay',
      dataset: { keys: ['data/missing.parquet'] },
      modelConfig: testModelConfig(),
    });
    const failure = await failureOf(handle);
    assert.equal(failure.type, 'DatasetNotFound');
    assert.match(failure.message, /stage validate failed: no object at s3:\/\/.*\/data\/missing\.parquet/);
    assert.deepEqual(
      await activitiesRun(handle),
      ['resolveRunConfig', 'governanceVerifyingKey', 'validateDataset'],
      'no training',
    );
  });

  it('fails on truncated Parquet', async () => {
    const bytes = flightsParquet(flights);
    await tenant.store.put('data/truncated.parquet', bytes.slice(0, Math.floor(bytes.length / 2)));
    const failure = await failureOf(
      await start({
        modelId: 'flight-delay',
        dataset: { keys: ['data/truncated.parquet'] },
        modelConfig: testModelConfig(),
      }),
    );
    assert.equal(failure.type, 'DatasetUnreadable');
    assert.match(failure.message, /truncated\.parquet is not a readable Parquet file/);
  });

  it('fails on schema violations, naming columns, rules and example rows, and stores the report', async () => {
    const broken: FlightRows = { ...flights, delay: [...flights.delay], origin: [...flights.origin] };
    broken.delay[7] = 99_999;
    broken.delay[8] = -5_000;
    (broken.origin as (string | null)[])[3] = null;
    await tenant.store.put('data/broken.parquet', flightsParquet(broken));
    const handle = await start({
      modelId: 'flight-delay',
      dataset: { keys: ['data/broken.parquet'] },
      modelConfig: testModelConfig(),
    });
    const failure = await failureOf(handle);
    assert.equal(failure.type, 'DataValidationFailed');
    assert.match(
      failure.message,
      /delay \[max\] values of "delay" above the maximum 2880 \(1 rows\); e\.g\. row 7: 99999/,
    );
    assert.match(failure.message, /delay \[min\] .*row 8: -5000/);
    assert.match(failure.message, /origin \[nullable\] .*row 3: null/);
    assert.deepEqual(
      await activitiesRun(handle),
      ['resolveRunConfig', 'governanceVerifyingKey', 'validateDataset'],
      'no training',
    );
    const report = (await tenant.store.getJson(
      keys.validationReport('flight-delay', (await handle.describe()).runId),
    )) as { ok: boolean; violations: unknown[] };
    assert.equal(report.ok, false);
    assert.equal(report.violations.length, 3);
  });

  it('retries while the object store is unreachable, then fails with a clear message', async () => {
    const dead = stack.tenant({ endpoint: `http://127.0.0.1:${await freePort()}` });
    await stack.startWorkers(dead.config);
    const handle = await startRetraining(
      stack.client,
      { modelId: 'flight-delay', dataset: { keys: ['data/good.parquet'] }, modelConfig: testModelConfig() },
      { taskQueue: dead.config.taskQueue },
    );
    const failure = await failureOf(handle);
    // The first thing a run does is settle its configuration (is this model registered?): that is where it shows.
    assert.match(
      failure.message,
      /stage starting failed: object store http:\/\/127\.0\.0\.1:\d+ unreachable during GetObject registry\/flight-delay\/config\.json/,
    );
    // Settling the configuration is a local activity: its marker records the attempt that ended it.
    assert.deepEqual(
      activityRuns(await handle.fetchHistory()),
      [{ type: 'resolveRunConfig', attempt: 5, local: true }],
      'the fifth attempt is the one recorded: four retries happened first',
    );
  });
});
