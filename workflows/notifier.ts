// Notifications from a workflow: each event gets an id from its kind and position in this execution (the same on
// every replay, so the activity's own dedup and receivers' dedup hold), and is sent without holding up the next
// stage. A notification that cannot be delivered is logged as a warning and never fails or blocks the workflow;
// settle() at the end waits for those in flight.
import { log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import {
  type NotificationEventInput,
  type NotificationKind,
  type NotificationSettings,
  notificationEventId,
  webUiRunLink,
} from '../core/notifications';
import { reasonOf } from '../core/parse';
import { controlHeartbeatTimeout } from './retryPolicies';

/** What the caller says about an event; id, time, workflow and link are filled in. */
export type NotificationDraft = Pick<NotificationEventInput, 'modelId' | 'message' | 'approvers' | 'facts'>;

export interface Notifier {
  /** From now on, notifications go where `settings` says (null: nowhere). */
  configure(settings: NotificationSettings | null): void;
  /** Whether an event of `kind` would be sent. */
  wants(kind: NotificationKind): boolean;
  /** Starts sending one event, if its kind is configured; does not wait for it. */
  send(kind: NotificationKind, draft: NotificationDraft): void;
  /** Waits until every notification sent so far is delivered or given up. */
  settle(): Promise<void>;
}

export function openNotifier(): Notifier {
  const { workflowId, runId, namespace } = workflowInfo();
  let settings: NotificationSettings | null = null;
  let proxy: ReturnType<typeof proxyActivities<ControlActivities>> | null = null;
  const sent = new Map<NotificationKind, number>();
  const inFlight = new Set<Promise<void>>();
  const wants = (kind: NotificationKind) => settings?.events.includes(kind) ?? false;
  return {
    configure(s) {
      settings = s;
      proxy = s
        ? proxyActivities<ControlActivities>({
            startToCloseTimeout: '30 seconds',
            heartbeatTimeout: controlHeartbeatTimeout,
            retry: {
              initialInterval: s.retry.initialInterval,
              backoffCoefficient: 2,
              maximumInterval: '1 minute',
              maximumAttempts: s.retry.maximumAttempts,
            },
          })
        : null;
    },
    wants,
    send(kind, draft) {
      if (!settings || !wants(kind) || !proxy) return;
      const n = sent.get(kind) ?? 0;
      sent.set(kind, n + 1);
      const id = notificationEventId(workflowId, runId, kind, n);
      const event: NotificationEventInput = {
        ...draft,
        id,
        kind,
        workflowId,
        runId,
        at: new Date().toISOString(),
        ...(settings.webUiUrl ? { link: webUiRunLink(settings.webUiUrl, namespace, workflowId, runId) } : {}),
      };
      const delivery = proxy.notify
        .executeWithOptions({ summary: `notify: ${kind}` }, [{ url: settings.url, event }])
        .then(
          () => undefined,
          (err: unknown) => log.warn('notification not delivered', { eventId: id, kind, error: reasonOf(err) }),
        )
        .finally(() => inFlight.delete(delivery));
      inFlight.add(delivery);
    },
    async settle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
