// Attempt records on their way to S3 (runs/<modelId>/<runId>/attempts/NNN.json). A record the object store does
// not take is kept and carried in every heartbeat, so the next attempt, which sees those heartbeat details, writes
// it; a record reconstructed from a heartbeat never replaces one that its own attempt wrote.
import type { Logger } from 'pino';
import type { AttemptRecord } from '../core/attempts';
import { keys } from '../core/keys';
import { ObjectStoreUnavailableError, type ObjectStore } from './objectStore';
import { retryWhileUnavailable } from './storeRetry';

export class AttemptLedger {
  private unwritten: AttemptRecord[];

  constructor(
    private readonly store: ObjectStore,
    private readonly modelId: string,
    private readonly runId: string,
    private readonly log: Logger,
    carried: AttemptRecord[] = [],
  ) {
    this.unwritten = [...carried];
  }

  /** Records not yet in S3: what the heartbeat carries to the next attempt. */
  get pending(): AttemptRecord[] {
    return this.unwritten;
  }

  /** Whether a record of `attempt` is waiting here. */
  holds(attempt: number): boolean {
    return this.unwritten.some((r) => r.attempt === attempt);
  }

  add(record: AttemptRecord): void {
    this.unwritten.push(record);
  }

  /** Writes what is waiting, retrying an outage until `until` (epoch ms); what still cannot be written stays. */
  async flush(until: number): Promise<void> {
    for (const record of [...this.unwritten]) {
      const key = keys.attempt(this.modelId, this.runId, record.attempt, record.trial);
      try {
        // Real records overwrite (an estimate made while their attempt was thought lost); estimates only fill gaps.
        const write = async () => {
          if (record.reconstructed) return this.store.putIfAbsent(key, JSON.stringify(record, null, 2));
          await this.store.putJson(key, record);
          return true;
        };
        const written = await retryWhileUnavailable(write, { until });
        if (!written)
          this.log.info({ attempt: record.attempt }, 'attempt recorded by itself: the estimate is not written');
        this.unwritten = this.unwritten.filter((r) => r !== record);
      } catch (err) {
        if (!(err instanceof ObjectStoreUnavailableError)) throw err;
        this.log.warn(
          { attempt: record.attempt, err: err.message },
          'object store unreachable: record kept for the next attempt',
        );
      }
    }
  }
}
