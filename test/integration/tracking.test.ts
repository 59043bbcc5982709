// Experiment tracking on a real MLflow server (loopback, its own SQLite store and served artifacts) and the usual
// stack: a run to promotion logged to MLflow and registered there with the alias `champion`, checked through MLflow's
// REST API; and a run whose tracking server is down, which promotes anyway and says tracking was skipped.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rollbackModel, startRetraining } from '../../client';
import { type ModelConfig, ModelConfig as ModelConfigSchema } from '../../core/modelConfig';
import { keys } from '../../core/keys';
import type { RunStatus } from '../../core/runStatus';
import { startMlflow, type MlflowServer } from '../../stack/mlflowServer';
import { freePort } from '../../stack/processes';
import { createAuditLog } from '../../workers/config';
import { formatRunSummary } from '../../cli/runSummary';
import { statusQuery } from '../../workflows/definitions';
import { testModelConfig } from '../helpers/flights';
import { trainingHeartbeat } from '../helpers/processes';
import { until } from '../helpers/until';
import { flightsTenant, recordHistory, startTestStack, type TestStack } from '../helpers/stack';

interface MlflowRun {
  info: { run_id: string; status: string; experiment_id: string };
  data: {
    params?: { key: string; value: string }[];
    tags?: { key: string; value: string }[];
    metrics?: { key: string; value: number; step: number }[];
  };
}

describe('experiment tracking (MLflow)', () => {
  let stack: TestStack;
  let mlflow: MlflowServer;
  let tenant: ReturnType<TestStack['tenant']>;
  const modelId = 'tracked';
  const experiment = 'flight delays';
  const mlflowDir = mkdtempSync(path.join(os.tmpdir(), 'ct-mlflow-'));

  before(async () => {
    // Started side by side: MLflow's first start (its store's migrations) takes a while.
    [stack, mlflow] = await Promise.all([startTestStack(), startMlflow({ dataDir: mlflowDir })]);
    tenant = await flightsTenant(stack);
    await createAuditLog(tenant.config).ensureBucket();
  });
  after(async () => {
    await Promise.all([stack?.stop(), mlflow?.process.stop()]);
    rmSync(mlflowDir, { recursive: true, force: true });
  });

  const api = async (pathAndQuery: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${mlflow.uri}/api/2.0/mlflow${pathAndQuery}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    assert.ok(res.ok, `${pathAndQuery}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  const run = async (uri: string, history: string, epochs = 2): Promise<{ status: RunStatus; seconds: number }> => {
    const modelConfig: ModelConfig = {
      ...testModelConfig({ hyperparameters: { epochs } }),
      modelId,
      tracking: { mlflow: { uri, experiment } },
    };
    const started = Date.now();
    const handle = await startRetraining(
      stack.client,
      { modelId, dataset: { keys: ['data/jan.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
    const status = await handle.result();
    await recordHistory(stack.client, history, handle.workflowId);
    return { status, seconds: (Date.now() - started) / 1000 };
  };

  it('logs a promoted run to MLflow: params, fingerprint, loss history, evaluation, gate, model, champion', async () => {
    const { status, seconds } = await run(mlflow.uri, 'pipeline-mlflow-tracking', 4);
    console.log(`tracked run: ${seconds.toFixed(1)} s`);
    assert.equal(status.outcome, 'promoted');
    assert.ok(status.tracking && 'mlflowRunId' in status.tracking, JSON.stringify(status.tracking));
    const { mlflowRunId, registeredVersion } = status.tracking;

    const exp = (await api(`/experiments/get-by-name?experiment_name=${encodeURIComponent(experiment)}`)) as {
      experiment: { experiment_id: string };
    };
    const found = (await api('/runs/search', {
      experiment_ids: [exp.experiment.experiment_id],
      filter: `tags.\`ct.run_id\` = '${status.runId}'`,
    })) as { runs: MlflowRun[] };
    assert.equal(found.runs.length, 1, 'one MLflow run for the run');
    const mlRun = found.runs[0]!;
    assert.equal(mlRun.info.run_id, mlflowRunId);
    assert.equal(mlRun.info.status, 'FINISHED');
    const params = Object.fromEntries((mlRun.data.params ?? []).map((p) => [p.key, p.value]));
    assert.equal(params['fingerprint'], status.fingerprint);
    assert.equal(params['hyperparameters.epochs'], '4');
    assert.equal(params['seed'], String(testModelConfig().seed));
    assert.match(params['trainer.command'] ?? '', /flight_delay/);
    const tags = Object.fromEntries((mlRun.data.tags ?? []).map((t) => [t.key, t.value]));
    assert.equal(tags['ct.workflow_id'], status.workflowId);
    assert.equal(tags['ct.model_id'], modelId);
    assert.equal(tags['ct.gate.passed'], 'true');
    assert.equal(tags['ct.outcome'], 'promoted');
    assert.equal(tags['ct.trigger'], status.trigger.kind);
    const metrics = Object.fromEntries((mlRun.data.metrics ?? []).map((m) => [m.key, m.value]));
    assert.equal(metrics['eval.rocAuc'], status.evaluation?.candidate.overall.rocAuc);
    assert.equal(metrics['gate.passed'], 1);

    const history = (await api(`/metrics/get-history?run_id=${mlflowRunId}&metric_key=train.loss`)) as {
      metrics: { step: number; value: number }[];
    };
    const steps = new Set(history.metrics.map((m) => m.step));
    console.log(`train.loss history: ${history.metrics.length} points, steps ${[...steps].join(',')}`);
    assert.ok(steps.size >= 4, `loss at ${steps.size} step(s)`);
    // The trainer's validation metrics at each epoch end (its `progress` events' `validation`), as their own history.
    const validation = (await api(`/metrics/get-history?run_id=${mlflowRunId}&metric_key=validation.loss`)) as {
      metrics: { step: number }[];
    };
    console.log(`validation.loss history: steps ${validation.metrics.map((m) => m.step).join(',')}`);
    assert.equal(validation.metrics.length, 4, 'one per epoch');
    const series = (await tenant.store.getJson(keys.trainingMetrics(modelId, status.runId))) as { points: unknown[] };
    assert.equal(history.metrics.length, series.points.length, 'every stored point logged once');

    const artifacts = (await api(`/artifacts/list?run_id=${mlflowRunId}&path=model`)) as {
      files?: { path: string; file_size?: number }[];
    };
    const model = artifacts.files?.find((f) => f.path === 'model/model.pt');
    assert.ok(model, JSON.stringify(artifacts));
    assert.equal(Number(model.file_size), (await tenant.store.head(keys.trainedModel(modelId, status.runId))).size);

    const alias = (await api(`/registered-models/alias?name=${modelId}&alias=champion`)) as {
      model_version: { version: string; run_id: string; tags?: { key: string; value: string }[] };
    };
    assert.equal(alias.model_version.version, registeredVersion);
    assert.equal(alias.model_version.run_id, mlflowRunId);
    const ctVersion = alias.model_version.tags?.find((t) => t.key === 'ct.version')?.value;
    assert.equal(ctVersion, String(status.registered?.version));
  });

  it('a run whose tracking server is down still promotes, and says tracking was skipped and why', async () => {
    const closed = await freePort(); // nothing listens there
    const { status, seconds } = await run(`http://127.0.0.1:${closed}`, 'pipeline-mlflow-tracking-skipped');
    console.log(`run with MLflow down: ${seconds.toFixed(1)} s`);
    assert.equal(status.outcome, 'promoted');
    assert.ok(status.tracking && 'skipped' in status.tracking, JSON.stringify(status.tracking));
    assert.match(status.tracking.skipped, new RegExp(`127\\.0\\.0\\.1:${closed}.*unreachable`));
    const audit = await createAuditLog(tenant.config).records(modelId);
    const skipped = audit.filter((r) => r.kind === 'tracking-skipped' && r.runId === status.runId);
    assert.equal(skipped.length, 1);
    assert.match(String(skipped[0]!.details['reason']), new RegExp(String(closed)));
    // The champion in MLflow stays where tracking last moved it; ours moved on (ours is the source of truth).
    const alias = (await api(`/registered-models/alias?name=${modelId}&alias=champion`)) as {
      model_version: { tags?: { key: string; value: string }[] };
    };
    assert.equal(alias.model_version.tags?.find((t) => t.key === 'ct.version')?.value, '1');
  });

  it("a sweep's trials are nested runs of the run's MLflow run, each with its values and metric", async () => {
    const modelConfig: ModelConfig = ModelConfigSchema.parse({
      ...testModelConfig({ hyperparameters: { epochs: 1 } }),
      modelId,
      tracking: { mlflow: { uri: mlflow.uri, experiment } },
      sweep: {
        metric: { name: 'auc', goal: 'maximize' },
        space: { learningRate: { values: [0.0003, 0.01] } },
        concurrency: 1,
      },
    });
    const handle = await startRetraining(
      stack.client,
      { modelId, dataset: { keys: ['data/jan.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
    const status = await handle.result();
    assert.ok(status.tracking && 'mlflowRunId' in status.tracking, JSON.stringify(status.tracking));
    const parent = status.tracking.mlflowRunId;
    const { experimentId } = status.tracking;
    const nested = (await api('/runs/search', {
      experiment_ids: [experimentId],
      filter: `tags.mlflow.parentRunId = '${parent}'`,
    })) as { runs: MlflowRun[] };
    assert.equal(nested.runs.length, 2, 'one nested run per trial');
    const byTrial = new Map(nested.runs.map((r) => [r.data.tags?.find((t) => t.key === 'ct.trial')?.value, r]));
    for (const trial of status.sweep!.trials) {
      const r = byTrial.get(trial.name)!;
      assert.equal(r.info.status, 'FINISHED');
      const params = Object.fromEntries((r.data.params ?? []).map((p) => [p.key, p.value]));
      assert.equal(params['hyperparameters.learningRate'], String(trial.values['learningRate']));
      const auc = r.data.metrics?.find((m) => m.key === 'validation.auc');
      assert.equal(auc?.value, trial.metric);
      const winner = r.data.tags?.find((t) => t.key === 'ct.trial.winner')?.value;
      assert.equal(winner, String(trial.name === status.sweep!.winner));
    }
    const parentRun = (await api(`/runs/get?run_id=${parent}`)) as { run: MlflowRun };
    const lr = parentRun.run.data.params?.find((p) => p.key === 'hyperparameters.learningRate')?.value;
    const won = status.sweep!.trials.find((t) => t.name === status.sweep!.winner)!;
    assert.equal(lr, String(won.values['learningRate']), "the run's params are the winner's");
  });

  it('a cancelled run is logged as KILLED, and ct status says where', async () => {
    const base = testModelConfig({ hyperparameters: { epochs: 2 } });
    const slow = ['env', 'CT_TRAINER_STEP_DELAY_MS=200', ...base.trainer.command];
    const modelConfig: ModelConfig = {
      ...base,
      modelId,
      trainer: { ...base.trainer, command: slow },
      tracking: { mlflow: { uri: mlflow.uri, experiment } },
    };
    const handle = await startRetraining(
      stack.client,
      { modelId, dataset: { keys: ['data/jan.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
    await until('training under way', async () => ((await trainingHeartbeat(handle))?.step ?? 0) >= 1);
    await handle.cancel();
    await assert.rejects(handle.result());
    await recordHistory(stack.client, 'pipeline-mlflow-tracking-cancelled', handle.workflowId);
    const status = await handle.query(statusQuery);
    assert.equal(status.outcome, 'cancelled');
    assert.ok(status.tracking && 'mlflowRunId' in status.tracking, JSON.stringify(status.tracking));
    const mlRun = (await api(`/runs/get?run_id=${status.tracking.mlflowRunId}`)) as { run: MlflowRun };
    assert.equal(mlRun.run.info.status, 'KILLED');
    assert.equal(mlRun.run.data.tags?.find((t) => t.key === 'ct.outcome')?.value, 'cancelled');
    assert.match(
      formatRunSummary(status),
      new RegExp(`MLflow: ${mlflow.uri}/#/experiments/\\d+/runs/${status.tracking.mlflowRunId}`),
    );
  });

  it("a rollback of our champion moves MLflow's champion to the version registered for it", async () => {
    const base = testModelConfig();
    const approval = {
      ...base.approval,
      roles: { sre: ['olga'] },
      rollback: { ...base.approval.rollback, roles: ['sre'] },
    };
    const tracking = { mlflow: { uri: mlflow.uri, experiment } };
    await tenant.store.putJson(keys.registeredConfig(modelId), { ...base, modelId, approval, tracking });
    // Someone moved MLflow's alias meanwhile (ours stays the source of truth): to a second MLflow version.
    const mv1 = (await api(`/registered-models/alias?name=${modelId}&alias=champion`)) as {
      model_version: { source: string; run_id: string };
    };
    const other = (await api('/model-versions/create', {
      name: modelId,
      source: mv1.model_version.source,
      run_id: mv1.model_version.run_id,
    })) as { model_version: { version: string } };
    await api('/registered-models/alias', { name: modelId, alias: 'champion', version: other.model_version.version });

    const result = await rollbackModel(
      stack.client,
      { modelId, toVersion: 1, by: 'olga', reason: 'v2 pages on-call' },
      { taskQueue: tenant.config.taskQueue, workflowId: `rollback/${modelId}/mlflow` },
    );
    await recordHistory(stack.client, 'rollback-mlflow-champion', `rollback/${modelId}/mlflow`);
    assert.equal(result.to, 1);
    assert.match(result.tracking ?? '', /MLflow champion: model version 1/);
    const alias = (await api(`/registered-models/alias?name=${modelId}&alias=champion`)) as {
      model_version: { version: string };
    };
    assert.equal(alias.model_version.version, '1');
  });
});
