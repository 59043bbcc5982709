// Notifications to people: one signed webhook POST per event (a Slack-compatible body, core/notifications.ts).
// 2xx: delivered, and marked in the object store so the event id is never posted again; 4xx: refused, not retried;
// 5xx, 408, 429 or unreachable: retried by Temporal with the model's backoff.
import { ApplicationFailure } from '@temporalio/common';
import { SIGNATURE_HEADER, signWebhookBody } from '../adapters/webhookSignature';
import { keys } from '../core/keys';
import { notificationBody, NotifyInput } from '../core/notifications';
import { parseOrThrow } from '../core/parse';
import { type ActivityDeps, activityLogger } from './context';

export const EVENT_ID_HEADER = 'x-ct-event-id';
const TIMEOUT_MS = 10_000;

export function createNotifyActivities(deps: ActivityDeps) {
  let warnedUnsigned = false;
  async function notify(raw: NotifyInput): Promise<{ delivered: boolean; duplicate: boolean }> {
    const { url, event } = parseOrThrow(NotifyInput, raw, 'notification');
    const log = activityLogger(deps.logger).child({ eventId: event.id, kind: event.kind, modelId: event.modelId });
    const marker = keys.notificationDelivered(event.id);
    if (await deps.store.exists(marker)) {
      log.info('notification already delivered: not sent again');
      return { delivered: true, duplicate: true };
    }
    const body = JSON.stringify(notificationBody(event));
    const headers: Record<string, string> = { 'content-type': 'application/json', [EVENT_ID_HEADER]: event.id };
    if (deps.notifySecret) headers[SIGNATURE_HEADER] = signWebhookBody(deps.notifySecret, body);
    else if (!warnedUnsigned) {
      warnedUnsigned = true;
      log.warn('notifications are sent unsigned: set notifications.secret (CT_NOTIFY_SECRET) to sign them');
    }
    const receiver = new URL(url).origin; // the path may hold a token (Slack's does): never logged
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      throw new Error(`notification receiver ${receiver} unreachable: ${(err as Error).message}`, { cause: err });
    }
    await res.body?.cancel();
    // 408 and 429 (Slack's rate limit) say "later", not "never": retried like a 5xx.
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)
      throw ApplicationFailure.nonRetryable(
        `notification receiver ${receiver} refused ${event.kind} ${event.id}: HTTP ${res.status}`,
        'NotificationRefused',
      );
    if (!res.ok) throw new Error(`notification receiver ${receiver} answered HTTP ${res.status} to ${event.id}`);
    await deps.store.putJson(marker, { eventId: event.id, kind: event.kind, status: res.status });
    log.info({ status: res.status }, 'notification delivered');
    return { delivered: true, duplicate: false };
  }
  return { notify };
}
