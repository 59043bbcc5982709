// Nothing is lost when the Temporal server restarts: a run waiting for approval survives a server restart
// (SQLite persistence) and completes afterwards, with the same workers still connected.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { decideRun, runStatus, startRetraining } from '../../client';
import { freePort } from '../../stack/processes';
import type { retrainingPipeline } from '../../workflows';
import { startTemporalDevServer, type DevServer } from '../../temporal/devServer';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { startTestStack, type TestStack } from '../helpers/stack';
import { testDataConverter } from '../helpers/codec';

describe('durability', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startTestStack();
  });
  after(async () => stack?.stop());

  it('a run survives a Temporal server restart', async () => {
    // A second server of our own, on a fixed port and SQLite file, so we can stop and restart it.
    const port = await freePort();
    const dataDir = path.join(stack.dir, 'restartable');
    let server: DevServer = await startTemporalDevServer({ dataDir, port, ui: false });
    const tenant = stack.tenant();
    const config = { ...tenant.config, temporal: { address: server.address, namespace: 'default' } };
    await tenant.store.ensureBucket();
    await tenant.store.put('data/jan.parquet', flightsParquet(await readFlightsSlice(0, 20_000)));
    const workers = await stack.startWorkers(config);
    let connection = await Connection.connect({ address: server.address });
    let client = new Client({ connection, dataConverter: testDataConverter() });
    const handle = await startRetraining(
      client,
      {
        modelId: 'flight-delay',
        dataset: { keys: ['data/jan.parquet'] },
        modelConfig: testModelConfig({ approval: 'manual' }),
      },
      { taskQueue: config.taskQueue },
    );
    for (let i = 0; i < 300 && (await runStatus(client, handle.workflowId)).stage !== 'approval'; i++)
      await new Promise((r) => setTimeout(r, 200));

    await server.process.stop();
    await connection.close();
    server = await startTemporalDevServer({ dataDir, port, ui: false });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, dataConverter: testDataConverter() });

    assert.equal((await runStatus(client, handle.workflowId)).stage, 'approval', 'state survived the restart');
    await decideRun(client, handle.workflowId, 'approved', 'after-restart');
    const result = await client.workflow.getHandle<typeof retrainingPipeline>(handle.workflowId).result();
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.decision?.by, 'after-restart');
    await workers.stop();
    await connection.close();
    await server.process.stop();
  });
});
