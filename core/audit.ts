// The audit log: one hash chain per model. Each record carries the SHA-256 of the previous record, so changing,
// removing or reordering any record breaks every link after it. Pure: hashing is done by a passed-in function.
import { z } from 'zod';

export const AuditKind = z.enum([
  'run-started',
  'gate-verdict',
  'training-reused',
  'approval',
  'rejection',
  'escalation',
  'decision',
  'promotion',
  'rollback',
  'rollback-refused',
  'decision-refused',
  'tracking-skipped',
]);
export type AuditKind = z.infer<typeof AuditKind>;

export const AuditEvent = z.object({
  modelId: z.string(),
  kind: AuditKind,
  actor: z.string().describe('who or what caused it: a person, "policy", "system"'),
  workflowId: z.string().nullable(),
  runId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  /** Makes appends idempotent: a retried append of the same event returns the record already written. */
  eventId: z.string().nullable().default(null),
});
export type AuditEvent = z.input<typeof AuditEvent>;

export const AuditRecord = AuditEvent.extend({
  seq: z.number().int().min(1),
  at: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level: the same record always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export type Sha256 = (text: string) => string;

export function chainRecord(event: AuditEvent, previous: AuditRecord | null, at: string, sha256: Sha256): AuditRecord {
  const unsigned = {
    ...AuditEvent.parse(event),
    seq: (previous?.seq ?? 0) + 1,
    at,
    prevHash: previous?.hash ?? GENESIS_HASH,
  };
  return { ...unsigned, hash: sha256(canonicalJson(unsigned)) };
}

export type ChainCheck = { ok: true; records: number } | { ok: false; records: number; seq: number; reason: string };

/** Recomputes the chain; reports the first broken link. `records` must be in sequence order. */
export function verifyChain(records: AuditRecord[], sha256: Sha256): ChainCheck {
  let previous: AuditRecord | null = null;
  for (const [i, record] of records.entries()) {
    const expectedSeq = i + 1;
    if (record.seq !== expectedSeq)
      return {
        ok: false,
        records: records.length,
        seq: expectedSeq,
        reason: `record ${expectedSeq} is missing (found ${record.seq} in its place)`,
      };
    if (record.prevHash !== (previous?.hash ?? GENESIS_HASH))
      return {
        ok: false,
        records: records.length,
        seq: record.seq,
        reason: 'prevHash does not match the previous record',
      };
    const { hash, ...unsigned } = record;
    if (sha256(canonicalJson(unsigned)) !== hash)
      return {
        ok: false,
        records: records.length,
        seq: record.seq,
        reason: 'content does not match its hash (the record was modified)',
      };
    previous = record;
  }
  return { ok: true, records: records.length };
}
