// How many trainings one GPU worker runs at once: one per GPU, one on CPU-only machines.
import { execFileSync } from 'node:child_process';

export interface GpuInventory {
  gpus: string[];
  source: 'CUDA_VISIBLE_DEVICES' | 'nvidia-smi' | 'none';
}

export function discoverGpus(env: NodeJS.ProcessEnv = process.env): GpuInventory {
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined) {
    const ids = visible
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '' && s !== '-1');
    return { gpus: ids, source: ids.length ? 'CUDA_VISIBLE_DEVICES' : 'none' };
  }
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=index', '--format=csv,noheader'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).toString();
    const ids = out
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    return { gpus: ids, source: ids.length ? 'nvidia-smi' : 'none' };
  } catch {
    return { gpus: [], source: 'none' };
  }
}
