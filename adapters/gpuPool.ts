// GPU slots of one worker: each training takes `perJob` GPU ids and sees only those (CUDA_VISIBLE_DEVICES).
import os from 'node:os';
import { slotName } from '../core/gpuIdle';

export class GpuPool {
  private readonly free: string[];
  constructor(
    readonly gpus: string[],
    readonly perJob: number,
    /** The worker's host, in the slot names its attempt records carry. */
    readonly host = os.hostname(),
  ) {
    this.free = [...gpus];
  }

  /** The name of the slot a training on `ids` (from acquire) occupies: <host>/gpu<ids>, or <host>/cpu. */
  slotOf(ids: string[]): string {
    return slotName(this.host, ids);
  }

  /** Trainings this worker runs at once: one per `perJob` GPUs, or a single CPU slot without GPUs. */
  get slots(): number {
    return this.gpus.length === 0 ? 1 : Math.max(1, Math.floor(this.gpus.length / this.perJob));
  }

  /** The GPU ids for one training ([] on a CPU-only worker); the worker's concurrency guarantees enough are free. */
  acquire(): string[] {
    if (this.gpus.length === 0) return [];
    const n = Math.min(this.perJob, this.gpus.length);
    if (this.free.length < n)
      throw new Error(`no free GPU: ${this.free.length} free, ${n} needed (worker concurrency exceeds its slots)`);
    return this.free.splice(0, n);
  }

  release(ids: string[]): void {
    for (const id of ids) if (this.gpus.includes(id) && !this.free.includes(id)) this.free.push(id);
  }
}
