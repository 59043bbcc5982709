// GPU slots of one worker: each training takes `perJob` GPU ids and sees only those (CUDA_VISIBLE_DEVICES).
export class GpuPool {
  private readonly free: string[];
  constructor(
    readonly gpus: string[],
    readonly perJob: number,
  ) {
    this.free = [...gpus];
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
