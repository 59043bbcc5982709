// Resource use of a trainer process tree, read from /proc (Linux): CPU-seconds for the scrap accounting,
// GPU utilisation from nvidia-smi when GPUs are assigned.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime + stime of the process and its waited-for children, in seconds; null when unreadable. */
export async function cpuSeconds(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime, stime, cutime, cstime are fields 14-17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return ticks / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Mean utilisation (%) and total memory used (MiB) of the given GPUs; nulls when nvidia-smi cannot say. */
export async function gpuStats(ids: string[]): Promise<{ gpuUtilization: number | null; gpuMemoryMiB: number | null }> {
  if (ids.length === 0) return { gpuUtilization: null, gpuMemoryMiB: null };
  try {
    const { stdout } = await promisify(execFile)(
      'nvidia-smi',
      ['--query-gpu=utilization.gpu,memory.used', '--format=csv,noheader,nounits', `--id=${ids.join(',')}`],
      { timeout: 5000 },
    );
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => l.split(',').map((v) => Number(v.trim())));
    return {
      gpuUtilization: rows.reduce((s, r) => s + (r[0] ?? 0), 0) / rows.length,
      gpuMemoryMiB: rows.reduce((s, r) => s + (r[1] ?? 0), 0),
    };
  } catch {
    return { gpuUtilization: null, gpuMemoryMiB: null };
  }
}
