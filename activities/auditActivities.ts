// Appending a run's decisions to the model's audit chain.
import { ApplicationFailure } from '@temporalio/common';
import type { AuditEvent, AuditRecord } from '../core/audit';
import type { ActivityDeps } from './context';

export function createAuditActivities(deps: ActivityDeps) {
  let ready: Promise<void> | undefined;

  async function recordAudit(event: AuditEvent): Promise<Pick<AuditRecord, 'seq' | 'hash'>> {
    if (!deps.audit)
      throw ApplicationFailure.nonRetryable('this worker has no audit log configured', 'AuditUnavailable');
    ready ??= deps.audit.ensureBucket().catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    await ready;
    const record = await deps.audit.append(event);
    return { seq: record.seq, hash: record.hash };
  }

  return { recordAudit };
}
