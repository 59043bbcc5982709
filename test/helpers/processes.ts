// Real worker processes and the trainer processes they start, for tests that kill, stop and signal them.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { AppConfig } from '../../core/appConfig';
import type { TrainingProgress } from '../../core/progress';
import { projectRoot } from '../../stack/paths';
import { startProcess, waitUntilReady, type ManagedProcess } from '../../stack/processes';
import { ctEnv } from './ct';
import { payloadValue } from './codec';

/** A worker as its own process (workers/<kind>.ts), configured through the environment like in production. */
export async function startWorkerProcess(
  kind: 'control' | 'gpu',
  config: AppConfig,
  logDir: string,
  name: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ManagedProcess> {
  const proc = startProcess(
    name,
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'workers', `${kind}.ts`)],
    logDir,
    {
      ...ctEnv(config),
      CT_TEMPORAL_NAMESPACE: config.temporal.namespace,
      CT_WORK_DIR: path.join(config.workDir, name),
      ...env,
    },
  );
  const started = `${kind} worker started`;
  await waitUntilReady(proc, async () => readFileSync(proc.logFile, 'utf8').includes(started), 60_000);
  return proc;
}

/** Trainer processes of a run (their command line names the run's work folder), with their process groups. */
export function trainerProcesses(runId: string): { pid: number; pgid: number }[] {
  const found: { pid: number; pgid: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('train.py') || !cmdline.includes(runId)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state[0] === 'Z') continue; // a zombie is already dead
      found.push({ pid: Number(entry), pgid: Number(state[2]) });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Live processes in a process group. */
export function processesInGroup(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[2]) === pgid && fields[0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The training activity's last heartbeat, as the server holds it. */
export async function trainingHeartbeat(handle: WorkflowHandle): Promise<TrainingProgress | null> {
  const desc = await handle.describe();
  const pending = desc.raw.pendingActivities?.find((a) => a.activityType?.name === 'trainModel');
  const payload = pending?.heartbeatDetails?.payloads?.[0];
  return payload?.data ? payloadValue<TrainingProgress>(payload) : null;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Live child processes of `ppid` with their command lines (from /proc). */
export function childProcesses(ppid: number): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== ppid || fields[0] === 'Z') continue;
      found.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Whether a process is alive (a zombie is not). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
