// A local Ray cluster for the tests and benchmarks of the `ray` training backend (issue: distributed training): a head
// and more nodes, each in a network namespace of its own (a test host), joined by a bridge. Ray binds to its node's
// route address (it swaps 127.0.0.1 for the machine's interface address), so the namespaces keep its traffic on the
// project's own test hosts; each node has its own ports and resources, and a node is killed whole (every process in
// its namespace, kill -9) as a lost machine would be. Needs root (ip netns), as CI and these machines have.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { requireTool } from './paths';
import { type ManagedProcess, startProcess, waitUntilReady } from './processes';

const GCS_PORT = 6379;
const DASHBOARD_PORT = 8265;
/** Ours: 10.231.<n>.0/24, one subnet per cluster, only on the bridge and namespaces made here. */
const SUBNET_PREFIX = '10.231';
/** Each node's interface on the bridge, the same name in every namespace. */
const NODE_INTERFACE = 'ctnet0';

export interface RayNode {
  name: string;
  /** Its network namespace: `ip netns pids <netns>` lists every process of the node. */
  netns: string;
  address: string;
  process: ManagedProcess;
}

export interface RayCluster {
  /** The dashboard and Jobs API, where the `ray` backend submits attempts: http://<head>:8265. */
  dashboardUrl: string;
  /** What `ray start --address` joins. */
  gcsAddress: string;
  nodes: RayNode[];
  /** Kills every process of a node at once (kill -9), as when its machine is lost. */
  killNode(name: string): void;
  /** Kills every node, removes the namespaces, the bridge and the cluster's folder. */
  stop(): Promise<void>;
}

export interface RayClusterOptions {
  /** Logs and Ray's session folders. */
  dataDir: string;
  /** Nodes besides the head (default 1). */
  workers?: number;
  /** CPUs each node offers Ray (default 1). */
  cpusPerNode?: number;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      `ip ${args.join(' ')} failed (${r.error?.message ?? r.stderr.trim()}): the Ray test cluster needs root`,
    );
}

/** Namespaces and bridges of clusters whose process is gone (a test killed mid-way): removed before a new start. */
function sweepStale(): void {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const names = (() => {
    try {
      return readdirSync('/run/netns');
    } catch {
      return [];
    }
  })();
  for (const ns of names) {
    const m = /^ctray-(\d+)-\d+$/.exec(ns);
    if (!m || alive(Number(m[1]))) continue;
    killNamespace(ns);
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

function killNamespace(netns: string): void {
  const r = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
  for (const pid of r.stdout.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A subnet no interface of this machine uses yet, tried from one our pid picks (two test files start at once). */
function freeSubnet(): number {
  const routes = spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).stdout;
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  for (let k = 0; k < 254; k++) {
    const n = ((process.pid + k) % 254) + 1;
    if (!routes.includes(`${SUBNET_PREFIX}.${n}.`) && !links.includes(`ctrh${n}n`)) return n;
  }
  throw new Error(`no free ${SUBNET_PREFIX}.x.0/24 subnet for a Ray test cluster`);
}

/** Starts the head and `workers` more nodes, each a namespace on the cluster's bridge; resolves once all joined. */
export async function startRayCluster(opts: RayClusterOptions): Promise<RayCluster> {
  const ray = path.join(path.dirname(requireTool('python')), 'ray');
  sweepStale();
  const id = `${process.pid}`;
  const subnet = freeSubnet();
  const bridge = `ctrb${subnet}`;
  const nodes: RayNode[] = [];
  const namespaces: string[] = [];
  const links: string[] = [];
  const stop = async () => {
    for (const ns of namespaces) killNamespace(ns);
    await Promise.all(nodes.map((n) => n.process.stop(2_000)));
    for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
    // A namespace outlives `netns del` while a reference to it remains, and its veth pair with it: delete the
    // pairs here, or the next cluster on the same subnet finds their names taken.
    for (const link of links) spawnSync('ip', ['link', 'del', link]);
    spawnSync('ip', ['link', 'del', bridge]);
    rmSync(path.join(opts.dataDir, 'ray'), { recursive: true, force: true });
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${SUBNET_PREFIX}.${subnet}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    const head = `${SUBNET_PREFIX}.${subnet}.2`;
    const gcsAddress = `${head}:${GCS_PORT}`;
    const cpus = String(opts.cpusPerNode ?? 1);
    for (let i = 0; i <= (opts.workers ?? 1); i++) {
      const name = i === 0 ? 'head' : `node${i}`;
      const netns = `ctray-${id}-${i}`;
      const address = `${SUBNET_PREFIX}.${subnet}.${i + 2}`;
      ip('netns', 'add', netns);
      namespaces.push(netns);
      ip('netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up');
      const [outside, inside] = [`ctrh${subnet}n${i}`, `ctrn${subnet}n${i}`];
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
      links.push(outside);
      ip('link', 'set', inside, 'netns', netns);
      ip('link', 'set', outside, 'master', bridge, 'up');
      ip('netns', 'exec', netns, 'ip', 'link', 'set', inside, 'name', NODE_INTERFACE);
      ip('netns', 'exec', netns, 'ip', 'addr', 'add', `${address}/24`, 'dev', NODE_INTERFACE);
      ip('netns', 'exec', netns, 'ip', 'link', 'set', NODE_INTERFACE, 'up');
      const tmp = path.join(opts.dataDir, 'ray', name);
      mkdirSync(tmp, { recursive: true });
      const common = ['--block', '--node-ip-address', address, '--num-cpus', cpus, '--disable-usage-stats'];
      const role =
        i === 0
          ? [
              '--head',
              '--port',
              String(GCS_PORT),
              '--dashboard-host',
              address,
              '--dashboard-port',
              String(DASHBOARD_PORT),
            ]
          : ['--address', gcsAddress, '--resources', JSON.stringify({ [name]: 1 })];
      // RAY_TMPDIR: each node's sessions and sockets in its own folder (`--temp-dir` is for the head alone).
      // PATH: a job's `python3` (a trainer command) is the trainers' Python, as on the GPU worker (trainerEnv).
      // GLOO_SOCKET_IFNAME: gloo finds its address from the hostname, which here is the host's (127.0.1.1); Ray's
      // workers, and the trainers' ranks they start, inherit it.
      const env = {
        RAY_TMPDIR: tmp,
        PATH: `${path.dirname(ray)}:${process.env['PATH'] ?? ''}`,
        GLOO_SOCKET_IFNAME: NODE_INTERFACE,
      };
      const proc = startProcess(
        `ray-${name}`,
        'ip',
        ['netns', 'exec', netns, ray, 'start', ...role, ...common],
        tmp,
        env,
      );
      nodes.push({ name, netns, address, process: proc });
      if (i === 0)
        await waitUntilReady(
          proc,
          async () => (await fetch(`http://${head}:${DASHBOARD_PORT}/api/version`)).ok,
          120_000,
        );
    }
    const dashboardUrl = `http://${head}:${DASHBOARD_PORT}`;
    await waitUntilReady(nodes[0]!.process, async () => (await aliveNodes(dashboardUrl)) === nodes.length, 120_000);
    return {
      dashboardUrl,
      gcsAddress,
      nodes,
      killNode: (name) => killNamespace(nodes.find((n) => n.name === name)!.netns),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** How many nodes the cluster counts as alive (Ray's state API). */
export async function aliveNodes(dashboardUrl: string): Promise<number> {
  const res = await fetch(`${dashboardUrl}/api/v0/nodes?limit=100`);
  const body = (await res.json()) as { data?: { result?: { result?: { state: string }[] } } };
  return (body.data?.result?.result ?? []).filter((n) => n.state === 'ALIVE').length;
}
