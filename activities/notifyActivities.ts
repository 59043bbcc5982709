// Telling approvers that a run waits for them (reminder) or has been escalated to them: a webhook, and a log line.
import { ApplicationFailure } from '@temporalio/common';
import { type ActivityDeps, activityLogger } from './context';

export interface Notification {
  kind: 'reminder' | 'escalation';
  modelId: string;
  workflowId: string;
  approvers: string[];
  url?: string;
  message: string;
  /** Workflow time at which the deadline fired. */
  at: string;
}

export function createNotifyActivities(deps: ActivityDeps) {
  async function notifyApprovers(n: Notification): Promise<{ delivered: boolean }> {
    const log = activityLogger(deps.logger);
    log.info({ kind: n.kind, modelId: n.modelId, approvers: n.approvers }, n.message);
    if (!n.url) return { delivered: false };
    const res = await fetch(n.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(n),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status >= 400 && res.status < 500)
      throw ApplicationFailure.nonRetryable(
        `notification webhook refused it: HTTP ${res.status}`,
        'NotificationRefused',
      );
    if (!res.ok) throw new Error(`notification webhook answered HTTP ${res.status}`);
    return { delivered: true };
  }
  return { notifyApprovers };
}
