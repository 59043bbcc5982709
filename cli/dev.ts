// `ct dev`: Temporal (+ Web UI), MinIO and both workers in the foreground, kept running: a child that dies is
// restarted with backoff on the same ports and state, and after too many deaths everything stops, naming the child,
// how it died and its last log lines. Ctrl-C stops them all in order; ports already held are explained, not fought.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DEV_RESTART_POLICY, formatWindow, type RestartPolicy } from '../core/restartPolicy';
import { projectRoot, stateDir } from '../stack/paths';
import { logSinceStart, logTail, type ManagedProcess, startProcess, waitUntilReady } from '../stack/processes';
import { type Death, keepRunning, type RestartingProcess } from '../stack/restartingProcess';
import { refuseHeldPorts } from './heldPorts';
import { metricsUrl } from '../workers/logging';
import {
  cliConfig,
  devMetrics,
  ensureLocalBucket,
  localEnv,
  localPorts,
  metricsEnv,
  startLocalMinio,
  startLocalTemporal,
} from './localStack';
import { UsageError } from './usage';
import pino from 'pino';
import { localCodecKeyFile } from '../workers/dataConverter';
import { createLogger } from '../workers/logging';
import { startConfiguredCodecServer } from './codecCommand';

const out = (s: string) => process.stdout.write(`${s}\n`);
const logDir = () => path.join(stateDir, 'logs');

function restartPolicy(env = process.env): RestartPolicy {
  const raw = env.CT_DEV_MAX_RESTARTS;
  if (raw === undefined || raw === '') return DEV_RESTART_POLICY;
  if (!/^\d+$/.test(raw)) {
    const window = formatWindow(DEV_RESTART_POLICY.windowMs);
    throw new UsageError(
      `CT_DEV_MAX_RESTARTS must be a whole number (restarts of a dead child within ${window}; ` +
        `0 stops everything at the first death), not "${raw}"`,
    );
  }
  return { ...DEV_RESTART_POLICY, maxRestarts: Number(raw) };
}

async function startWorker(kind: 'control' | 'gpu'): Promise<ManagedProcess> {
  const env = { ...localEnv(), ...metricsEnv(devMetrics()[kind]), CT_WORK_DIR: path.join(stateDir, 'work') };
  const script = path.join(projectRoot, 'workers', `${kind}.ts`);
  const proc = startProcess(`${kind}-worker`, process.execPath, ['--import', 'tsx', script], logDir(), env);
  await waitUntilReady(proc, async () => logSinceStart(proc).includes(`"msg":"${kind} worker started"`), 120_000);
  return proc;
}

const startWorkers = [() => startWorker('control'), () => startWorker('gpu')];

/** Runs until Ctrl-C (0) or until a child died more often than the restart policy allows (1). */
export async function runDev(): Promise<number> {
  const policy = restartPolicy();
  await refuseHeldPorts();
  mkdirSync(logDir(), { recursive: true });
  // Settles once: with the death the restart policy gave up on, or with nothing on Ctrl-C.
  let finish: (death?: Death) => void = () => {};
  const finished = new Promise<Death | undefined>((resolve) => (finish = resolve));
  const keep = (first: ManagedProcess, start: () => Promise<ManagedProcess>) =>
    keepRunning(first, start, { policy, say: out, onGiveUp: (death) => finish(death) });

  // The Web UI decodes payloads through this codec server (in this process); the local key is made here if missing.
  const { config } = cliConfig();
  const codecLog = createLogger(config.logLevel, pino.destination(path.join(logDir(), 'codec-server.log')));
  const codec = await startConfiguredCodecServer(config, codecLog);
  const startServers = [() => startLocalTemporal({ uiCodecEndpoint: codec.url }), () => startLocalMinio()];
  const servers: RestartingProcess[] = [];
  const workers: RestartingProcess[] = [];
  const stopAll = async () => {
    await Promise.all(workers.map((w) => w.stop(70_000)));
    for (const s of [...servers].reverse()) await s.stop();
    await codec.close();
  };
  try {
    // One after the other: the dev server binds ports of its own that MinIO's console-port probe could pick.
    for (const start of startServers) servers.push(keep(await start(), start));
    await ensureLocalBucket();
    const started = await Promise.allSettled(startWorkers.map(async (start) => keep(await start(), start)));
    for (const r of started) if (r.status === 'fulfilled') workers.push(r.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    await stopAll();
    throw err;
  }
  const pid = (p: RestartingProcess) => p.current().child.pid;
  const [temporal, minio] = servers as [RestartingProcess, RestartingProcess];
  const [control, gpu] = workers as [RestartingProcess, RestartingProcess];
  out(`Temporal  127.0.0.1:${localPorts.temporal}  (namespace default; pid ${pid(temporal)})`);
  out(`Web UI    http://127.0.0.1:${localPorts.ui}  (decrypts payloads through the codec server)`);
  const keySource = config.codec.keys.length > 0 ? 'codec.keys' : path.relative(projectRoot, localCodecKeyFile());
  out(`codec     ${codec.url}  (payloads AES-256-GCM encrypted, key ${codec.keyId} from ${keySource})`);
  out(`S3        http://127.0.0.1:${localPorts.s3}  bucket ct-local  (MinIO; pid ${pid(minio)})`);
  out(`workers   control (queue ct; pid ${pid(control)}), gpu (queue ct-gpu; pid ${pid(gpu)})`);
  const metrics = devMetrics();
  out(`metrics   control ${metricsUrl(metrics.control)}, gpu ${metricsUrl(metrics.gpu)} (CT_METRICS_PORT)`);
  out(`logs      ${path.relative(projectRoot, logDir())}/`);
  out(`state     ${path.relative(projectRoot, stateDir)}/ (kept across restarts)`);
  const window = formatWindow(policy.windowMs);
  out(`restarts  a child that dies is restarted, ${policy.maxRestarts} times within ${window} (CT_DEV_MAX_RESTARTS)`);
  out('next      npx ct demo · npx ct schedule create <modelId> --every 1d · CT_WEBHOOK_SECRET=… npx ct webhook');
  out('Ctrl-C stops everything.');

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => finish());
  const death = await finished;
  if (death) {
    const { name, logFile } = death.proc;
    const deaths = policy.maxRestarts + 1;
    const why = policy.maxRestarts === 0 ? 'CT_DEV_MAX_RESTARTS=0' : `it died ${deaths} times within ${window}`;
    out(`${name} died (${death.reason}); not restarting it (${why}). Last lines of ${logFile}:`);
    out(logTail(death.proc).replace(/^/gm, '  | '));
    out('stopping everything…');
  } else out('stopping workers, then Temporal and MinIO…');
  await stopAll();
  out('stopped.');
  return death ? 1 : 0;
}
