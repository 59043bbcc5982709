// `ct dev` as a user runs it, a real process on free ports: it starts everything, keeps its children running (a
// SIGKILLed worker, MinIO or Temporal is restarted on the same port and state, saying so), explains a held port to a
// second `ct dev`, stops everything when a child dies more often than allowed, and takes its children with it when
// it is SIGKILLed itself.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliConfig, localEnv } from '../../cli/localStack';
import { createObjectStore } from '../../workers/config';
import { freePort, tcpOpen } from '../../stack/processes';
import { CT, runCt } from '../helpers/ct';
import { testModelConfig } from '../helpers/flights';
import { alive, childProcesses } from '../helpers/processes';
import { until } from '../helpers/until';

interface Dev {
  proc: ChildProcess;
  output(): string;
  /** The first match of `re` in what ct dev printed after character `from`; fails at once if ct dev exits. */
  waitFor(re: RegExp, from?: number, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function startDev(env: NodeJS.ProcessEnv): Dev {
  const proc = spawn(process.execPath, [CT, 'dev'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    exited,
    async waitFor(re, from = 0, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.slice(from).match(re);
        if (m) return m;
        if (proc.exitCode !== null) throw new Error(`ct dev exited (${proc.exitCode}) before printing ${re}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`ct dev did not print ${re}:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

/** A free port whose next port is free too (`ct dev` serves the GPU worker's metrics there). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!(await tcpOpen(port + 1))) return port;
  }
}

const bannerPid = async (dev: Dev, what: RegExp) => Number((await dev.waitFor(what))[1]);

describe('ct dev', () => {
  let ports: { temporal: number; ui: number; s3: number; codec: number; controlMetrics: number; gpuMetrics: number };
  let devEnv: NodeJS.ProcessEnv;
  let cliEnv: NodeJS.ProcessEnv;
  let state: string;
  let dev: Dev;

  before(async () => {
    const metrics = await freePortPair();
    ports = {
      temporal: await freePort(),
      ui: await freePort(),
      s3: await freePort(),
      codec: await freePort(),
      controlMetrics: metrics,
      gpuMetrics: metrics + 1,
    };
    state = mkdtempSync(path.join(os.tmpdir(), 'ct-dev-'));
    const portEnv = {
      CT_DEV_TEMPORAL_PORT: String(ports.temporal),
      CT_DEV_UI_PORT: String(ports.ui),
      CT_DEV_S3_PORT: String(ports.s3),
      CT_METRICS_PORT: String(ports.controlMetrics),
      CT_CODEC_PORT: String(ports.codec),
    };
    devEnv = { ...process.env, ...portEnv, CT_STATE_DIR: state };
    // The same state dir: the CLI encrypts with the local key `ct dev` generated there.
    cliEnv = { ...process.env, ...localEnv(ports), CT_STATE_DIR: state };
    dev = startDev(devEnv);
    await dev.waitFor(/Ctrl-C stops everything/);
  });
  after(async () => {
    if (dev?.proc.exitCode === null) dev.proc.kill('SIGKILL');
    rmSync(state, { recursive: true, force: true });
  });

  it('starts Temporal with the Web UI, MinIO and both workers, and prints their pids', async () => {
    assert.match(dev.output(), new RegExp(`Web UI    http://127\\.0\\.0\\.1:${ports.ui}`));
    assert.equal((await fetch(`http://127.0.0.1:${ports.ui}/`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${ports.s3}/minio/health/ready`)).status, 200);
    assert.match(
      readFileSync(path.join(state, 'logs', 'gpu-worker.log'), 'utf8'),
      /no GPU found.*1 slot[\s\S]*gpu worker started/,
    );
    assert.match(
      readFileSync(path.join(state, 'logs', 'control-worker.log'), 'utf8'),
      /"taskQueue":"ct".*control worker started/,
    );
    const [controlMetrics, gpuMetrics] = [ports.controlMetrics, ports.gpuMetrics].map(
      (p) => `http://127\\.0\\.0\\.1:${p}/metrics`,
    );
    assert.match(dev.output(), new RegExp(`metrics   control ${controlMetrics}, gpu ${gpuMetrics}`));
    for (const port of [ports.controlMetrics, ports.gpuMetrics]) {
      const scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(scraped, /^temporal_\w+/m, `the worker on port ${port} serves the SDK's metrics`);
    }
    // The Web UI decodes through the codec server, which answers the UI's origin only, with the local key (0600).
    assert.match(dev.output(), new RegExp(`codec     http://127\\.0\\.0\\.1:${ports.codec}  \\(payloads AES-256-GCM`));
    assert.equal(statSync(path.join(state, 'codec-keys.json')).mode & 0o777, 0o600);
    const decode = (origin: string) =>
      fetch(`http://127.0.0.1:${ports.codec}/decode`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json', 'x-namespace': 'default' },
        body: JSON.stringify({ payloads: [] }),
      });
    assert.equal((await decode(`http://127.0.0.1:${ports.ui}`)).status, 200);
    assert.equal((await decode('http://evil.example')).status, 403);
    const children = childProcesses(dev.proc.pid!);
    for (const what of [
      /namespace default; pid (\d+)/,
      /MinIO; pid (\d+)/,
      /control \(queue ct; pid (\d+)/,
      /gpu \(queue ct-gpu; pid (\d+)/,
    ]) {
      const pid = await bannerPid(dev, what);
      assert.ok(
        children.some((c) => c.pid === pid),
        `pid ${pid} (${what}) is a child of ct dev: ${JSON.stringify(children)}`,
      );
    }
  });

  it('a second ct dev on held ports exits 2, naming the holder and how to free it', async () => {
    const temporalPid = await bannerPid(dev, /namespace default; pid (\d+)/);
    const second = await runCt(['dev'], { ...devEnv, CT_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), 'ct-dev-2-')) });
    assert.equal(second.status, 2, second.stderr);
    const held = `port ${ports.temporal} \\(Temporal\\) is held by pid ${temporalPid} \\(\\S*temporal server start-dev`;
    assert.match(second.stderr, new RegExp(`${held}[^;]*, a child of the \`ct dev\` running as pid ${dev.proc.pid}`));
    assert.match(second.stderr, new RegExp(`port ${ports.s3} \\(MinIO\\) is held by pid \\d+ \\(\\S*minio server`));
    assert.match(
      second.stderr,
      new RegExp(`Free them with \`kill ${dev.proc.pid}\`, or choose other ports with CT_DEV_TEMPORAL_PORT`),
    );

    // A port held by a stranger: its pid and command line, and `kill` of that pid.
    const strangerPort = await freePort();
    const stranger = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${strangerPort}, '127.0.0.1')`,
    ]);
    try {
      await until('the stranger listening', () => tcpOpen(strangerPort), 30_000);
      const ownPorts = {
        CT_DEV_TEMPORAL_PORT: String(await freePort()),
        CT_DEV_UI_PORT: String(await freePort()),
        CT_METRICS_PORT: String(await freePortPair()),
        CT_CODEC_PORT: String(await freePort()),
      };
      const blocked = await runCt(['dev'], { ...devEnv, ...ownPorts, CT_DEV_S3_PORT: String(strangerPort) });
      assert.equal(blocked.status, 2, blocked.stderr);
      assert.match(
        blocked.stderr,
        new RegExp(`port ${strangerPort} \\(MinIO\\) is held by pid ${stranger.pid} \\(\\S*node -e require`),
      );
      assert.match(blocked.stderr, new RegExp(`Free it with \`kill ${stranger.pid}\``));
      assert.equal(await tcpOpen(Number(ownPorts.CT_DEV_TEMPORAL_PORT)), false, 'nothing was started');
    } finally {
      stranger.kill();
    }
  });

  it('restarts a SIGKILLed control worker, says so, and workflows run again', async () => {
    const file = path.join(state, 'model.json');
    writeFileSync(file, JSON.stringify(testModelConfig()));
    const reg = await runCt(['models', 'register', file], cliEnv);
    assert.equal(reg.status, 0, reg.stderr);
    const old = await bannerPid(dev, /control \(queue ct; pid (\d+)/);
    const mark = dev.output().length;
    process.kill(old, 'SIGKILL');
    await dev.waitFor(
      /control-worker died \(signal SIGKILL\); restarting in 1 s \(restart 1 of 5 within 10 min\)/,
      mark,
    );
    const restarted = Number((await dev.waitFor(/control-worker restarted \(pid (\d+)\)/, mark))[1]);
    assert.notEqual(restarted, old);
    const alert = path.join(state, 'alert.json');
    writeFileSync(
      alert,
      JSON.stringify({ alertId: 'after-worker-restart', modelId: 'flight-delay', datasetDrift: false }),
    );
    const report = await runCt(['supervisor', 'report', alert], cliEnv);
    assert.equal(report.status, 0, report.stderr);
    assert.match(report.stdout, /^recorded/);
  });

  it('restarts a SIGKILLed MinIO on the same port, with the objects written before', async () => {
    const store = createObjectStore(cliConfig(cliEnv).config);
    await store.put('probe/before-kill.txt', 'still here');
    const old = await bannerPid(dev, /MinIO; pid (\d+)/);
    const mark = dev.output().length;
    process.kill(old, 'SIGKILL');
    await dev.waitFor(/minio died \(signal SIGKILL\); restarting in 1 s \(restart 1 of 5 within 10 min\)/, mark);
    await dev.waitFor(/minio restarted \(pid \d+\)/, mark);
    assert.equal((await fetch(`http://127.0.0.1:${ports.s3}/minio/health/ready`)).status, 200);
    assert.equal(Buffer.from(await store.getBytes('probe/before-kill.txt')).toString(), 'still here');
  });

  it('restarts a SIGKILLed Temporal on the same port and state: the supervisor is still there and answers', async () => {
    const old = await bannerPid(dev, /namespace default; pid (\d+)/);
    const mark = dev.output().length;
    process.kill(old, 'SIGKILL');
    await dev.waitFor(/temporal died \(signal SIGKILL\); restarting in 1 s/, mark);
    await dev.waitFor(/temporal restarted \(pid \d+\)/, mark);
    const status = await runCt(['supervisor', 'status', 'flight-delay', '--json'], cliEnv);
    assert.equal(status.status, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { reportsReceived: number }).reportsReceived, 1);
    const alert = path.join(state, 'alert-2.json');
    writeFileSync(
      alert,
      JSON.stringify({ alertId: 'after-temporal-restart', modelId: 'flight-delay', datasetDrift: false }),
    );
    const report = await runCt(['supervisor', 'report', alert], cliEnv);
    assert.equal(report.status, 0, report.stderr);
    assert.match(report.stdout, /^recorded/);
  });

  it('Ctrl-C stops everything', async () => {
    dev.proc.kill('SIGINT');
    assert.equal(await dev.exited, 0, dev.output());
    assert.match(dev.output(), /stopped\./);
    for (const port of Object.values(ports))
      assert.equal(await tcpOpen(port), false, `port ${port} closed after Ctrl-C`);
  });

  it('with CT_DEV_MAX_RESTARTS=0 the first death stops everything, naming the child, how it died and its log', async () => {
    dev = startDev({ ...devEnv, CT_DEV_MAX_RESTARTS: '0' });
    const gpu = await bannerPid(dev, /gpu \(queue ct-gpu; pid (\d+)\)/);
    process.kill(gpu, 'SIGKILL');
    assert.equal(await dev.exited, 1, dev.output());
    const logFile = path.join(state, 'logs', 'gpu-worker.log');
    assert.match(
      dev.output(),
      new RegExp(
        `gpu-worker died \\(signal SIGKILL\\); not restarting it \\(CT_DEV_MAX_RESTARTS=0\\)\\. Last lines of ${logFile}:`,
      ),
    );
    assert.match(dev.output(), /\n {2}\| .*gpu worker started/);
    assert.match(dev.output(), /stopping everything…[\s\S]*stopped\./);
    for (const port of Object.values(ports)) assert.equal(await tcpOpen(port), false, `port ${port} closed`);
  });

  it('a SIGKILLed ct dev takes its children with it: no server keeps the ports', async () => {
    dev = startDev(devEnv);
    await dev.waitFor(/Ctrl-C stops everything/);
    // Temporal, MinIO and the two workers (tsx's esbuild service, also a child, ends with its stdin).
    const children = childProcesses(dev.proc.pid!).filter((c) =>
      /temporal server|minio server|workers\//.test(c.command),
    );
    assert.equal(children.length, 4, JSON.stringify(childProcesses(dev.proc.pid!)));
    dev.proc.kill('SIGKILL');
    await dev.exited;
    await until('the children of the killed ct dev to exit', async () => children.every((c) => !alive(c.pid)), 60_000);
    for (const port of Object.values(ports)) assert.equal(await tcpOpen(port), false, `port ${port} freed`);
  });
});
