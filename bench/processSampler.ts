// Samples a process's resident memory and CPU from /proc every few seconds, for the benchmarks.
import { readFileSync } from 'node:fs';

export interface ProcessSample {
  /** Seconds since sampling started. */
  t: number;
  rssMiB: number;
  /** CPU used since the previous sample, in cores (1 = one core busy all the time). */
  cpuCores: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Resident memory (VmRSS) of `pid`, in MiB. */
export function rssMiB(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Number(line[1]) / 1024 : 0;
}

/** CPU seconds (user + system) `pid` has used. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
}

/** Samples `pid` every `everyMs` until stopped; `samples` holds what was seen. */
export function sampleProcess(pid: number, everyMs = 5_000) {
  const samples: ProcessSample[] = [];
  const t0 = Date.now();
  let last = { at: t0, cpu: cpuSeconds(pid) };
  const take = () => {
    try {
      const now = { at: Date.now(), cpu: cpuSeconds(pid) };
      samples.push({
        t: (now.at - t0) / 1000,
        rssMiB: rssMiB(pid),
        cpuCores: (now.cpu - last.cpu) / Math.max(0.001, (now.at - last.at) / 1000),
      });
      last = now;
    } catch {
      // the process is gone
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      take();
    },
  };
}
