// Child server processes (Temporal, MinIO, workers): started with logs to a file, awaited until ready, stopped
// cleanly, and gone with us when we are killed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** The log's size when this process started: what it wrote is the log from here on (the file is appended to). */
  logOffset: number;
  stop(graceMs?: number): Promise<void>;
}

let pdeathsigPrefix: string[] | undefined;
/**
 * `setpriv --pdeathsig SIGTERM --` where util-linux has it (Linux): the kernel then sends the child SIGTERM when we
 * die, even by SIGKILL, so no server outlives us holding its port. Elsewhere nothing (a later `ct dev` names the
 * process that holds the port instead).
 */
function dieWithParent(): string[] {
  if (pdeathsigPrefix === undefined) {
    const probe = process.platform === 'linux' ? spawnSync('setpriv', ['--help'], { encoding: 'utf8' }) : undefined;
    const supported = probe?.status === 0 && probe.stdout.includes('--pdeathsig');
    pdeathsigPrefix = supported ? ['setpriv', '--pdeathsig', 'SIGTERM', '--'] : [];
  }
  return pdeathsigPrefix;
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  logDir: string,
  env?: NodeJS.ProcessEnv,
): ManagedProcess {
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
  const log = createWriteStream(logFile, { flags: 'a' });
  // setpriv execs the command, so the child's pid is the server's.
  const [program, ...prefix] = [...dieWithParent(), command];
  // detached: its own process group, so Ctrl-C in the terminal reaches us first and we stop it in order.
  const child = spawn(program, [...prefix, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    detached: true,
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    logFile,
    logOffset,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts a server on kernel-chosen free ports, retrying with new ports when another process took one between
 * our probe and the server's bind (the dev server binds further ports of its own, so this race is real).
 */
export async function startOnFreePorts<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (err) {
      if (i >= attempts || !(err instanceof PortInUseError)) throw err;
    }
  }
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** How a process ended, for people: "exit code 1" or "signal SIGKILL". */
export function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

/** What a process wrote to its log since it started. */
export function logSinceStart(proc: ManagedProcess): string {
  return readFileSync(proc.logFile).subarray(proc.logOffset).toString('utf8');
}

/** The last `lines` lines a process wrote to its log since it started. */
export function logTail(proc: ManagedProcess, lines = 15): string {
  return logSinceStart(proc).trimEnd().split('\n').slice(-lines).join('\n');
}

/** Waits until `probe` resolves true, failing with the process log's path if the process dies or time runs out. */
export async function waitUntilReady(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      const message = `${proc.name} exited (${exitReason(proc.child.exitCode, proc.child.signalCode)}); see ${proc.logFile}`;
      const portTaken = /already in use|address in use/i.test(logSinceStart(proc));
      throw portTaken ? new PortInUseError(message) : new Error(message);
    }
    if (await probe().catch(() => false)) return;
    await sleep(200);
  }
  // Not left running: nobody holds a handle on a process that never became ready.
  await proc.stop();
  throw new Error(`${proc.name} was not ready after ${timeoutMs / 1000}s; see ${proc.logFile}`);
}

export function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
