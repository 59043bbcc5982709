// One readable line per audit record.
import type { AuditRecord } from '../core/audit';

export function formatAuditRecord(r: AuditRecord): string {
  const details = Object.entries(r.details)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `#${r.seq} ${r.at} ${r.kind.padEnd(12)} by ${r.actor}${r.workflowId ? ` (${r.workflowId})` : ''}  ${details}  hash ${r.hash.slice(0, 12)}…`;
}
