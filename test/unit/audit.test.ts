import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { type AuditRecord, canonicalJson, chainRecord, GENESIS_HASH, verifyChain } from '../../core/audit';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const event = (kind: 'run-started' | 'decision', actor: string) => ({
  modelId: 'm',
  kind,
  actor,
  workflowId: 'w',
  runId: 'r',
  details: { b: 1, a: [2, { y: 1, x: 0 }] },
});

function chain(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      chainRecord(
        event(i % 2 ? 'decision' : 'run-started', `u${i}`),
        out[i - 1] ?? null,
        `2026-01-0${i + 1}T00:00:00Z`,
        sha,
      ),
    );
  return out;
}

describe('audit hash chain', () => {
  it('hashes canonically (key order does not matter)', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } }),
      '{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}',
    );
  });

  it('links each record to the previous one and verifies an intact chain', () => {
    const c = chain(4);
    assert.equal(c[0]!.prevHash, GENESIS_HASH);
    assert.equal(c[2]!.prevHash, c[1]!.hash);
    assert.deepEqual(verifyChain(c, sha), { ok: true, records: 4 });
  });

  it('names the first broken link: modified, removed or reordered records', () => {
    const modified = chain(4);
    modified[1] = { ...modified[1]!, actor: 'mallory' };
    assert.deepEqual(verifyChain(modified, sha), {
      ok: false,
      records: 4,
      seq: 2,
      reason: 'content does not match its hash (the record was modified)',
    });
    const rehashed = chain(4);
    const forged: Partial<AuditRecord> = { ...rehashed[1]!, actor: 'mallory' };
    delete forged.hash;
    rehashed[1] = { ...(forged as AuditRecord), hash: sha(canonicalJson(forged)) };
    assert.equal(
      (verifyChain(rehashed, sha) as { seq: number }).seq,
      3,
      're-hashing a forged record breaks the next link',
    );
    const removed = chain(4);
    removed.splice(1, 1);
    assert.match((verifyChain(removed, sha) as { reason: string }).reason, /record 2 is missing/);
  });
});
