// `ct dev`: Temporal (+ Web UI), MinIO and both workers in the foreground; Ctrl-C stops them all in order.
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot, stateDir } from '../stack/paths';
import { startProcess, tcpOpen, waitUntilReady } from '../stack/processes';
import { ensureLocalStack, localEnv, localPorts } from './localStack';

export async function runDev(): Promise<void> {
  if (await tcpOpen(localPorts.temporal)) {
    throw new Error(`port ${localPorts.temporal} is already in use (another \`ct dev\`?); set CT_DEV_TEMPORAL_PORT, CT_DEV_UI_PORT and CT_DEV_S3_PORT to run a second one`);
  }
  const stack = await ensureLocalStack();
  const logDir = path.join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const env = { ...localEnv(), CT_WORK_DIR: path.join(stateDir, 'work') };
  const workers = ['control', 'gpu'].map((kind) =>
    startProcess(`${kind}-worker`, process.execPath, ['--import', 'tsx', path.join(projectRoot, 'workers', `${kind}.ts`)], logDir, env),
  );
  const out = (s: string) => process.stdout.write(`${s}\n`);
  for (const w of workers) {
    const kind = w.name.replace('-worker', '');
    await waitUntilReady(w, async () => (await readFile(w.logFile, 'utf8').catch(() => '')).includes(`"msg":"${kind} worker started"`), 120_000).catch(async (err: unknown) => {
      await Promise.all(workers.map((x) => x.stop()));
      await stack.stop();
      throw err;
    });
  }
  out(`Temporal  127.0.0.1:${localPorts.temporal}  (namespace default)`);
  out(`Web UI    ${stack.uiUrl}`);
  out(`S3        http://127.0.0.1:${localPorts.s3}  bucket ct-local  (MinIO)`);
  out(`workers   control (queue ct), gpu (queue ct-gpu); logs in ${path.relative(projectRoot, logDir)}/`);
  out(`state     ${path.relative(projectRoot, stateDir)}/ (kept across restarts)`);
  out('next      npx ct demo · npx ct schedule create <modelId> --every 1d · CT_WEBHOOK_SECRET=… npx ct webhook');
  out('Ctrl-C stops everything.');

  let stopping = false;
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop);
    for (const w of workers) w.child.once('exit', (code) => {
      if (stopping) return;
      out(`${w.name} exited (code ${code}); see ${w.logFile}`);
      resolve();
    });
  });
  stopping = true;
  out('stopping workers…');
  await Promise.all(workers.map((w) => w.stop(70_000)));
  out('stopping Temporal and MinIO…');
  await stack.stop();
  out('stopped.');
}
