// The local Ray cluster the `ray` training backend is tested on (stack/rayCluster.ts): a head and a second node, each
// a network namespace of its own; a job submitted through the Jobs API from outside runs on the node it asks for, with
// the trainers' Python (PyTorch and Ray); the second node killed whole is lost to the cluster; stopping it leaves no
// process and no namespace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { aliveNodes, type RayCluster, startRayCluster } from '../../stack/rayCluster';
import { until } from '../helpers/until';

describe('local Ray cluster (network namespaces)', () => {
  let cluster: RayCluster;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-ray-'));

  before(async () => {
    cluster = await startRayCluster({ dataDir: dir, workers: 1 });
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The Jobs API through node:http: Ray's dashboard refuses a POST that carries fetch's Sec-Fetch headers (CSRF). */
  const jobs = (route: string, body?: unknown) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = http.request(
        `${cluster.dashboardUrl}/api/jobs/${route}`,
        { method: body === undefined ? 'GET' : 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(JSON.parse(text) as Record<string, unknown>)
              : reject(new Error(`${route}: ${res.statusCode} ${text}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  it("runs a job on the node it asks for, in that node's namespace, with PyTorch and Ray", async () => {
    assert.equal(await aliveNodes(cluster.dashboardUrl), 2);
    const node = cluster.nodes[1]!;
    // The interfaces it sees say which namespace (node) it ran in.
    const entrypoint = `python -c "import ray, torch; print('torch', torch.__version__, 'ray', ray.__version__)" && ip -4 -o addr show`;
    await jobs('', { entrypoint, submission_id: 'probe', entrypoint_resources: { [node.name]: 1 } });
    const job = await until('the job to end', async () => {
      const j = await jobs('probe');
      return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(String(j['status'])) ? j : undefined;
    });
    const { logs } = (await jobs('probe/logs')) as { logs: string };
    assert.equal(job['status'], 'SUCCEEDED', logs);
    assert.match(logs, /torch \d\S* ray 2\.60\.0/);
    assert.ok(logs.includes(`inet ${node.address}/24`), `ran on ${node.name} (${node.address}): ${logs}`);
  });

  it('loses the second node when it is killed whole, and stops with nothing left', async () => {
    cluster.killNode('node1');
    const pids = () => spawnSync('ip', ['netns', 'pids', cluster.nodes[1]!.netns], { encoding: 'utf8' }).stdout.trim();
    await until('every process of the node gone (reaped)', async () => pids() === '', 10_000);
    await until('the head to count the node lost', async () => (await aliveNodes(cluster.dashboardUrl)) === 1);
    const namespaces = cluster.nodes.map((n) => n.netns);
    await cluster.stop();
    const left = readdirSync('/run/netns').filter((ns) => namespaces.includes(ns));
    assert.deepEqual(left, [], 'namespaces removed');
    const rayProcesses = spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' }).stdout.trim();
    assert.equal(rayProcesses, '', 'no Ray process of the cluster left');
  });
});
