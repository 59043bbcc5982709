// The audit log in S3: records appended to a per-model hash chain in a bucket with Object Lock, each record
// retained (write-once) so it cannot be overwritten in place or deleted before its retention ends.
import { createHash } from 'node:crypto';
import { AuditRecord, chainRecord, verifyChain, type AuditEvent, type ChainCheck } from '../core/audit';
import type { AppConfig } from '../core/appConfig';
import type { ObjectStore } from './objectStore';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const recordKey = (modelId: string, seq: number) => `audit/${modelId}/${String(seq).padStart(10, '0')}.json`;

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
    const keysList = (await this.store.list(`audit/${modelId}/`)).filter((k) => k.endsWith('.json')).sort();
    return Promise.all(keysList.map(async (k) => AuditRecord.parse(await this.store.getJson(k))));
  }

  /** Appends `event` after the newest record; a concurrent append to the same position loses and retries. */
  async append(event: AuditEvent, now = new Date()): Promise<AuditRecord> {
    for (;;) {
      const existing = (await this.store.list(`audit/${event.modelId}/`)).filter((k) => k.endsWith('.json')).sort();
      const recent = await Promise.all(
        existing.slice(-20).map(async (k) => AuditRecord.parse(await this.store.getJson(k))),
      );
      const same = event.eventId ? recent.find((r) => r.eventId === event.eventId) : undefined;
      if (same) return same;
      const last = recent[recent.length - 1] ?? null;
      const record = chainRecord(event, last, now.toISOString(), sha256);
      const retainUntil = {
        date: new Date(now.getTime() + this.retention.retentionDays * 86_400_000),
        mode: this.retention.mode,
      };
      if (
        await this.store.putIfAbsent(
          recordKey(event.modelId, record.seq),
          JSON.stringify(record, null, 2),
          'application/json',
          retainUntil,
        )
      )
        return record;
    }
  }

  async verify(modelId: string): Promise<ChainCheck> {
    return verifyChain(await this.records(modelId), sha256);
  }
}
