// Child server processes (Temporal, MinIO): started with logs to a file, awaited until ready, stopped cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(name: string, command: string, args: string[], logDir: string, env?: NodeJS.ProcessEnv): ManagedProcess {
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  // detached: its own process group, so Ctrl-C in the terminal reaches us first and we stop it in order.
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: true });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    logFile,
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

/** Waits until `probe` resolves true, failing with the process log's path if the process dies or time runs out. */
export async function waitUntilReady(proc: ManagedProcess, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      const log = readFileSync(proc.logFile, 'utf8');
      const message = `${proc.name} exited with code ${proc.child.exitCode}; see ${proc.logFile}`;
      throw /already in use|address in use/i.test(log) ? new PortInUseError(message) : new Error(message);
    }
    if (await probe().catch(() => false)) return;
    await sleep(200);
  }
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
