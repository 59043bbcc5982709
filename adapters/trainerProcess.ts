// Runs a trainer (any language, trainers/PROTOCOL.md) as its own process group, streaming its JSON-line events.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TrainerEvent } from '../core/trainerProtocol';
import { cpuSeconds } from './processStats';
import { TrainerOutput, type TrainerOutputHandlers, whenAborted } from './trainerOutput';

export interface TrainerRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  lastError: Extract<TrainerEvent, { event: 'error' }> | null;
  stderrTail: string;
  /** CPU-seconds the trainer process used, as last sampled while it lived. */
  cpuSeconds: number;
}

export interface RunTrainerOptions extends TrainerOutputHandlers {
  command: string[];
  mode: 'train' | 'predict';
  configFile: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Aborting asks the trainer to checkpoint (SIGTERM) and kills its whole group after `graceMs`. */
  signal?: AbortSignal;
  graceMs?: number;
  /** Aborting kills the whole group at once (a stalled trainer cannot checkpoint). */
  killSignal?: AbortSignal;
}

// /proc forgets a process once it is reaped, and a crash can come right after its last line: sample its CPU time
// on every line it writes and on a timer, never only when its (possibly backlogged) events are handled.
const CPU_SAMPLE_MS = 500;

export async function runTrainer(opts: RunTrainerOptions): Promise<TrainerRun> {
  const [program, ...args] = opts.command;
  const child = spawn(program!, [...args, opts.mode, '--config', opts.configFile], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: we can signal the trainer and everything it started
  });
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // group already gone
    }
  };
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    killGroup('SIGTERM');
    killTimer = setTimeout(() => killGroup('SIGKILL'), opts.graceMs ?? 30_000);
  };
  const unlisten = [whenAborted(opts.signal, onAbort), whenAborted(opts.killSignal, () => killGroup('SIGKILL'))];
  // One read in flight at a time: a chatty trainer's lines do not each cost a /proc read.
  const cpu = { seconds: 0, reading: null as Promise<void> | null };
  const sampleCpu = () => {
    if (cpu.reading || !child.pid || child.exitCode !== null || child.signalCode !== null) return;
    cpu.reading = cpuSeconds(child.pid).then((c) => {
      cpu.seconds = Math.max(cpu.seconds, c ?? 0);
      cpu.reading = null;
    });
  };
  const cpuTimer = setInterval(sampleCpu, CPU_SAMPLE_MS);

  const output = new TrainerOutput(opts);
  createInterface({ input: child.stdout }).on('line', (line) => {
    sampleCpu();
    output.event(line);
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    sampleCpu();
    output.log(line);
  });
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => resolve([code, sig]));
  });
  for (const remove of unlisten) remove();
  // The trainer is gone; make sure nothing it started outlives it.
  killGroup('SIGKILL');
  if (killTimer) clearTimeout(killTimer);
  clearInterval(cpuTimer);
  await cpu.reading;
  await output.drained();
  const { lastError, stderrTail } = output;
  return { exitCode, signal, lastError, stderrTail, cpuSeconds: cpu.seconds };
}
