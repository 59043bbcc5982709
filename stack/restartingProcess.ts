// A child of `ct dev` kept running: when it dies it is started again (same ports, same state folders) after the
// restart policy's backoff, saying so; when the policy gives up, `onGiveUp` hears which child died and how.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterDeath, formatWindow, type RestartPolicy } from '../core/restartPolicy';
import { exitReason, type ManagedProcess } from './processes';

export interface Death {
  /** The process that died last (its name, log, and the log's start for this run). */
  proc: ManagedProcess;
  /** "signal SIGKILL", "exit code 1", "could not start again: …". */
  reason: string;
}

export interface RestartingProcess {
  /** The process running now: the latest one started. */
  current(): ManagedProcess;
  /** Stops it for good: no restart after this, a pending one is cancelled. */
  stop(graceMs?: number): Promise<void>;
}

export interface KeepRunningOptions {
  policy: RestartPolicy;
  say: (line: string) => void;
  onGiveUp: (death: Death) => void;
}

/** Watches `first` (already started and ready) and restarts it with `start` whenever it dies. */
export function keepRunning(
  first: ManagedProcess,
  start: () => Promise<ManagedProcess>,
  options: KeepRunningOptions,
): RestartingProcess {
  const { policy, say, onGiveUp } = options;
  let proc = first;
  let stopped = false;
  const deaths: number[] = [];
  const cancel = new AbortController();
  let restarting: Promise<void> = Promise.resolve();

  const watch = (p: ManagedProcess) =>
    p.child.once('exit', (code, signal) => {
      if (!stopped) restarting = died(exitReason(code, signal));
    });

  async function died(reason: string): Promise<void> {
    const now = Date.now();
    const decision = afterDeath(deaths, now, policy);
    deaths.push(now);
    if (decision.action === 'give-up') return onGiveUp({ proc, reason });
    const allowed = `restart ${decision.restart} of ${policy.maxRestarts} within ${formatWindow(policy.windowMs)}`;
    say(`${proc.name} died (${reason}); restarting in ${decision.delayMs / 1000} s (${allowed})`);
    try {
      await sleep(decision.delayMs, undefined, { signal: cancel.signal });
      proc = await start();
    } catch (err) {
      if (stopped) return;
      return died(`could not start again: ${(err as Error).message}`);
    }
    if (stopped) return proc.stop();
    say(`${proc.name} restarted (pid ${proc.child.pid})`);
    watch(proc);
  }

  watch(first);
  return {
    current: () => proc,
    async stop(graceMs) {
      stopped = true;
      cancel.abort();
      await restarting;
      await proc.stop(graceMs);
    },
  };
}
