// The audit log in S3: records appended to a per-model hash chain in a bucket with Object Lock, each record
// retained (write-once) so it cannot be overwritten in place or deleted before its retention ends.
//
// An append costs a fixed number of requests however long the chain: nothing in the bucket is ever overwritten
// (an overwrite in a versioned, locked bucket keeps every version), so the head is found through write-once
// checkpoints whose keys sort newest first, and the retry of an event finds its record through write-once claims.
//   audit/<model>/<seq>.json                       the records (unchanged since the first release)
//   audit-index/<model>/head/<9999999999 - seq>    a checkpoint: record <seq> exists (the newest lists first)
//   audit-index/<model>/events/<sha256>/<seq>      a claim: an append of that eventId tried position <seq>
import { createHash } from 'node:crypto';
import { AuditRecord, chainRecord, verifyChain, type AuditEvent, type ChainCheck } from '../core/audit';
import type { AppConfig } from '../core/appConfig';
import type { ObjectStore } from './objectStore';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const pad = (n: number) => String(n).padStart(10, '0');
const MAX_SEQ = 9_999_999_999;
const recordPrefix = (modelId: string) => `audit/${modelId}/`;
const recordKey = (modelId: string, seq: number) => `${recordPrefix(modelId)}${pad(seq)}.json`;
const isRecordKey = (modelId: string, key: string) => /^\d{10}\.json$/.test(key.slice(recordPrefix(modelId).length));
const headPrefix = (modelId: string) => `audit-index/${modelId}/head/`;
const claimPrefix = (modelId: string, eventId: string) => `audit-index/${modelId}/events/${sha256(eventId)}/`;

/** A checkpoint every this many records: the listing that finds the head returns at most about this many keys. */
const CHECKPOINT_EVERY = 100;
/** How far back a chain written before checkpoints existed is searched for a retried event (the old rule). */
const UNINDEXED_LOOKBACK = 20;

interface Head {
  record: AuditRecord | null;
  /** The newest checkpoint's seq; null when the chain has none yet (new, or written before checkpoints). */
  checkpoint: number | null;
  /** The keys of the records after that checkpoint, in order. */
  newer: string[];
}

export class AuditLog {
  constructor(
    readonly store: ObjectStore,
    private readonly retention: AppConfig['audit'],
  ) {}

  static bucketName(config: AppConfig): string {
    return config.audit.bucket ?? `${config.s3.bucket}-audit`;
  }

  async ensureBucket(): Promise<void> {
    await this.store.ensureBucket({ objectLock: true });
  }

  async records(modelId: string): Promise<AuditRecord[]> {
    const keysList = (await this.store.list(recordPrefix(modelId))).filter((k) => isRecordKey(modelId, k)).sort();
    return Promise.all(keysList.map(async (k) => AuditRecord.parse(await this.store.getJson(k))));
  }

  /**
   * Appends `event` after the newest record; a concurrent append to the same position loses and retries. An event
   * with an eventId is written once: before an append writes position n it claims n for its eventId, and every
   * append looks at the claims of its eventId after it has found the head. A record of that event at some
   * position m < n therefore existed before the head was found, and so did its claim, which the later append sees.
   */
  async append(event: AuditEvent, now = new Date()): Promise<AuditRecord> {
    const { modelId, eventId } = event;
    const retainUntil = {
      date: new Date(now.getTime() + this.retention.retentionDays * 86_400_000),
      mode: this.retention.mode,
    };
    const otherEvents = new Set<number>(); // claimed positions already read holding another event (write-once)
    for (let lost = 0; ; lost++) {
      // Appenders that lost a position spread out before trying again, rather than all racing for the next one.
      if (lost > 0) await sleep(Math.random() * 10 * 2 ** Math.min(lost, 6));
      const head = await this.head(modelId);
      const seq = (head.record?.seq ?? 0) + 1;
      if (eventId) {
        const same = await this.recordOf(modelId, eventId, head, otherEvents);
        if (same) return same;
        await this.store.putIfAbsent(
          `${claimPrefix(modelId, eventId)}${pad(seq)}`,
          JSON.stringify({ eventId, seq }),
          'application/json',
          retainUntil,
        );
      }
      const record = chainRecord(event, head.record, now.toISOString(), sha256);
      if (
        await this.store.putIfAbsent(
          recordKey(modelId, record.seq),
          JSON.stringify(record, null, 2),
          'application/json',
          retainUntil,
        )
      ) {
        if (head.checkpoint === null || seq - head.checkpoint >= CHECKPOINT_EVERY)
          // A lost checkpoint only makes the next appends list a few more keys: never worth failing the append.
          await this.store
            .putIfAbsent(`${headPrefix(modelId)}${pad(MAX_SEQ - seq)}`, '{}', 'application/json', retainUntil)
            .catch(() => false);
        return record;
      }
    }
  }

  async verify(modelId: string): Promise<ChainCheck> {
    return verifyChain(await this.records(modelId), sha256);
  }

  /** The newest record: three requests (newest checkpoint, the keys after it, the record). */
  private async head(modelId: string): Promise<Head> {
    const mark = await this.store.firstKey(headPrefix(modelId));
    const checkpoint = mark === null ? null : MAX_SEQ - Number(mark.slice(headPrefix(modelId).length));
    const newer = (
      await this.store.list(recordPrefix(modelId), {
        startAfter: checkpoint === null ? undefined : recordKey(modelId, checkpoint),
      })
    ).filter((k) => isRecordKey(modelId, k));
    const key = newer.at(-1) ?? (checkpoint === null ? undefined : recordKey(modelId, checkpoint));
    return { record: key ? AuditRecord.parse(await this.store.getJson(key)) : null, checkpoint, newer };
  }

  /** The record of `eventId` if one was written: at a position it claimed, or in a chain not yet indexed, recent. */
  private async recordOf(
    modelId: string,
    eventId: string,
    head: Head,
    otherEvents: Set<number>,
  ): Promise<AuditRecord | null> {
    const claimed = (await this.store.list(claimPrefix(modelId, eventId))).map((k) => Number(k.slice(-10)));
    const unindexed =
      head.checkpoint === null ? head.newer.slice(-UNINDEXED_LOOKBACK).map((k) => Number(k.slice(-15, -5))) : [];
    for (const seq of new Set([...claimed, ...unindexed])) {
      if (otherEvents.has(seq)) continue;
      const found = seq === head.record?.seq ? head.record : await this.store.getJsonIfExists(recordKey(modelId, seq));
      if (found === undefined) continue; // claimed by an append that crashed or lost that position
      const record = AuditRecord.parse(found);
      if (record.eventId === eventId) return record;
      otherEvents.add(seq);
    }
    return null;
  }
}
