// Checkpoint uploads in the background of a training attempt: the trainer's events never wait on S3, and an outage
// of the object store only delays uploads. Checkpoints wait on local disk (at most `maxPending`; past that the
// oldest waiting one is dropped, never the newest) and go up oldest first when the store answers again.
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CheckpointStore } from './checkpointStore';
import { ObjectStoreUnavailableError } from './objectStore';
import { outageDelayMs } from './storeRetry';

export interface StoredCheckpoint {
  key: string;
  sha256: string;
  step: number;
  bytes: number;
  /** Hashing and uploading it (the successful try; waits out of an outage are not included). */
  seconds: number;
  /** When the trainer had written it (ISO time): the training state it holds is as of then. */
  writtenAt: string;
}

interface Pending {
  file: string;
  step: number;
  writtenAt: string;
}

export interface CheckpointUploadsOptions {
  maxPending: number;
  keep: number;
  log: Logger;
  /** Called once a checkpoint is in S3 (only then may a heartbeat name it); returns the key to protect from pruning. */
  onStored: (stored: StoredCheckpoint) => Promise<string | null>;
}

export class CheckpointUploads {
  private readonly waiting: Pending[] = [];
  private inFlight: Pending | null = null;
  private drain: Promise<void> | null = null;
  private failure: Error | null = null;
  private retries = 0;
  private readonly closed = new AbortController();
  /** When uploads started failing (ISO time), null while the store answers. */
  unavailableSince: string | null = null;

  constructor(
    private readonly checkpoints: CheckpointStore,
    private readonly opts: CheckpointUploadsOptions,
  ) {}

  /** Checkpoints written by the trainer and not yet in S3. */
  get pending(): number {
    return this.waiting.length + (this.inFlight ? 1 : 0);
  }

  /** Queues a checkpoint file the trainer has finished writing; returns at once. */
  add(file: string, step: number): void {
    this.waiting.push({ file, step, writtenAt: new Date().toISOString() });
    this.enforceBudget();
    this.drain ??= this.run().finally(() => (this.drain = null));
  }

  /**
   * Waits until every queued checkpoint is in S3; throws the outage once `until` (epoch ms) passes or `signal`
   * aborts with some still waiting, and any other upload failure at once.
   */
  async flush(until: number, signal?: AbortSignal): Promise<void> {
    while (this.pending > 0 && !this.failure) {
      if (Date.now() >= until || signal?.aborted) {
        throw new ObjectStoreUnavailableError(
          `${this.pending} checkpoint(s) could not be uploaded: the object store is unreachable since ${this.unavailableSince}`,
        );
      }
      await sleep(200);
    }
    if (this.failure) throw this.failure;
  }

  /** Stops uploading; what is still waiting stays on local disk. */
  close(): void {
    this.closed.abort();
  }

  private enforceBudget(): void {
    // The newest waiting checkpoint is the best resume point: drop from the oldest end, never it.
    while (this.pending > this.opts.maxPending && this.waiting.length > 1) {
      const dropped = this.waiting.shift()!;
      const { maxPending } = this.opts;
      if (this.unavailableSince) {
        const why = 'object store unreachable: dropping the oldest local checkpoint';
        this.opts.log.warn({ step: dropped.step, maxPending, unavailableSince: this.unavailableSince }, why);
      } else {
        // Events that come in bursts (a job log read through Ray) can bring more checkpoints than uploads keep up with.
        this.opts.log.info({ step: dropped.step, maxPending }, 'uploads behind: dropping a superseded checkpoint');
      }
      void rm(dropped.file, { force: true }).catch(() => undefined);
    }
  }

  private async run(): Promise<void> {
    while (this.waiting.length && !this.closed.signal.aborted && !this.failure) {
      const next = (this.inFlight = this.waiting.shift()!);
      try {
        await this.upload(next);
        this.retries = 0;
      } catch (err) {
        this.inFlight = null;
        if (!(err instanceof ObjectStoreUnavailableError)) {
          this.failure = err instanceof Error ? err : new Error(String(err));
          return;
        }
        if (!this.unavailableSince) {
          this.unavailableSince = new Date().toISOString();
          const why = 'object store unreachable: keeping checkpoints on local disk until it is back';
          this.opts.log.warn({ step: next.step, err: err.message }, why);
        }
        this.waiting.unshift(next);
        this.enforceBudget();
        await sleep(outageDelayMs(this.retries++), undefined, { signal: this.closed.signal }).catch(() => undefined);
      }
    }
  }

  private async upload(next: Pending): Promise<void> {
    const started = performance.now();
    const stored = await this.checkpoints.upload(next.file);
    const seconds = (performance.now() - started) / 1000;
    if (this.unavailableSince) {
      const { unavailableSince, waiting } = this;
      this.opts.log.info(
        { step: next.step, unavailableSince, waiting: waiting.length },
        'object store back: uploading local checkpoints',
      );
      this.unavailableSince = null;
    }
    await rm(next.file, { force: true });
    const protect = await this.opts.onStored({ ...stored, step: next.step, seconds, writtenAt: next.writtenAt });
    // Pending until recorded, not just until in S3: flush() returning before onStored let a crashed attempt's record
    // name the checkpoint before its newest one.
    this.inFlight = null;
    // Pruning is housekeeping: an outage now only leaves an extra checkpoint until the next one is stored.
    const pruned = await this.checkpoints.prune(this.opts.keep, protect).catch((err: unknown) => {
      if (err instanceof ObjectStoreUnavailableError) return [];
      throw err;
    });
    this.opts.log.info({ step: next.step, checkpointKey: stored.key, pruned: pruned.length }, 'checkpoint stored');
  }
}
