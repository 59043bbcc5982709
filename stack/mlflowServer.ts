// An MLflow tracking server (its own venv, installed by stack/install.sh) on loopback, with its own SQLite backend
// store and served artifacts under one folder: for the tracking tests and for trying tracking locally.
import path from 'node:path';
import { requireTool } from './paths';
import { freePort, type ManagedProcess, startOnFreePorts, startProcess, waitUntilReady } from './processes';

export interface MlflowServer {
  /** The tracking URI: `tracking.mlflow.uri` of a model config. */
  uri: string;
  process: ManagedProcess;
}

/** Starts `mlflow server` on a free port (or `port`), keeping its store, artifacts and log under `dataDir`. */
export async function startMlflow(opts: { dataDir: string; port?: number }): Promise<MlflowServer> {
  return opts.port === undefined ? startOnFreePorts(() => startMlflowOnce(opts)) : startMlflowOnce(opts);
}

async function startMlflowOnce(opts: { dataDir: string; port?: number }): Promise<MlflowServer> {
  const port = opts.port ?? (await freePort());
  const args = [
    'server',
    ['--host', '127.0.0.1'],
    ['--port', String(port)],
    ['--workers', '1'],
    ['--backend-store-uri', `sqlite:///${path.resolve(opts.dataDir, 'mlflow.db')}`],
    ['--artifacts-destination', path.resolve(opts.dataDir, 'artifacts')],
  ].flat();
  // Its background job runner (for GenAI features) is not needed: fewer processes, less CPU.
  const proc = startProcess('mlflow', requireTool('mlflow'), args, path.join(opts.dataDir, 'logs'), {
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
  });
  const uri = `http://127.0.0.1:${port}`;
  // The first start migrates the SQLite store: tens of seconds on a slow machine.
  await waitUntilReady(proc, async () => (await fetch(`${uri}/health`)).ok, 120_000);
  return { uri, process: proc };
}
