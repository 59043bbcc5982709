// Notifications to people: the events (incident opened, approval requested, reminder, escalation, run failed,
// model promoted), their deterministic ids, and the Slack-compatible webhook body (text, blocks, metadata) they
// are sent as. Pure: the workflow builds the event, the notify activity posts the body.
import { z } from 'zod';
import type { ModelConfig } from './modelConfig';

export const NotificationKind = z.enum([
  'incident-opened',
  'approval-requested',
  'reminder',
  'escalation',
  'run-failed',
  'model-promoted',
]);
export type NotificationKind = z.infer<typeof NotificationKind>;
export const ALL_NOTIFICATION_KINDS = NotificationKind.options;
/** What the deprecated `approval.notifyUrl` was called for, and still is. */
export const NOTIFY_URL_KINDS: NotificationKind[] = ['reminder', 'escalation'];

export const NotificationEvent = z
  .object({
    id: z
      .string()
      .min(1)
      .describe(
        'stable across retries and replays: <workflowId>/<runId>/<kind>/<n>; the same id is the same event (dedupe on it)',
      ),
    kind: NotificationKind,
    modelId: z.string().min(1),
    workflowId: z.string().min(1).describe('the run (or the supervisor, for incidents) the event is about'),
    runId: z.string().min(1),
    at: z.iso.datetime().describe('workflow time of the event'),
    message: z.string().min(1).describe('one line for people'),
    approvers: z
      .array(z.string())
      .default([])
      .describe('who may decide now (approval requested, reminder, escalation)'),
    facts: z
      .record(z.string(), z.string())
      .default({})
      .describe('short labelled facts: version, incident, error, trigger…'),
    link: z.url().optional().describe('the run in the Temporal Web UI, when notifications.webUiUrl is configured'),
  })
  .strict();
export type NotificationEvent = z.infer<typeof NotificationEvent>;
export type NotificationEventInput = z.input<typeof NotificationEvent>;

/** What the webhook receives: Slack's incoming-webhook fields; `metadata.event_payload` is the event itself. */
export const NotificationBody = z
  .object({
    text: z.string().describe('plain fallback (notifications, clients without blocks)'),
    blocks: z
      .array(z.object({ type: z.string() }).loose())
      .min(1)
      .describe('Slack Block Kit blocks'),
    metadata: z
      .object({ event_type: z.string().describe('ct_<kind with "_">'), event_payload: NotificationEvent })
      .strict(),
  })
  .strict();
export type NotificationBody = z.infer<typeof NotificationBody>;

/** The id of the `n`-th event of `kind` in one workflow execution: the same on every retry and replay. */
export const notificationEventId = (workflowId: string, runId: string, kind: NotificationKind, n: number): string =>
  `${workflowId}/${runId}/${kind}/${n}`;

/** The run's page in the Temporal Web UI under `base` (e.g. http://localhost:8233). */
export function webUiRunLink(base: string, namespace: string, workflowId: string, runId: string): string {
  const root = base.replace(/\/+$/, '');
  return `${root}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}

const TITLES: Record<NotificationKind, (e: NotificationEvent) => string> = {
  'incident-opened': (e) => `Incident opened: ${e.modelId}`,
  'approval-requested': (e) => `Approval requested: ${e.modelId}`,
  reminder: (e) => `Reminder: ${e.modelId} waits for approval`,
  escalation: (e) => `Escalated: ${e.modelId} waits for approval`,
  'run-failed': (e) => `Run failed: ${e.modelId}`,
  'model-promoted': (e) => `Promoted: ${e.modelId}${e.facts.version ? ` v${e.facts.version}` : ''}`,
};

/** Slack reads &, < and > as markup (`<!channel>` pings everyone): text from runs is escaped. */
const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text: clip(text, 2000) });

/** The webhook body for `event`: a header, the message, the facts, who may approve, a button to the run. */
export function notificationBody(raw: NotificationEventInput): NotificationBody {
  const event = NotificationEvent.parse(raw);
  const title = TITLES[event.kind](event);
  const run = event.link ? `<${event.link}|${escape(event.workflowId)}>` : escape(event.workflowId);
  // Slack allows 10 fields per section block.
  const fields = [
    mrkdwn(`*Model*\n${escape(event.modelId)}`),
    mrkdwn(`*Run*\n${run}`),
    ...Object.entries(event.facts).map(([k, v]) => mrkdwn(`*${escape(k)}*\n${escape(v)}`)),
  ].slice(0, 10);
  const blocks: NotificationBody['blocks'] = [
    { type: 'header', text: { type: 'plain_text', text: clip(title, 150) } },
    { type: 'section', text: mrkdwn(escape(event.message)) },
    { type: 'section', fields },
  ];
  if (event.approvers.length > 0)
    blocks.push({ type: 'context', elements: [mrkdwn(`May approve: ${escape(event.approvers.join(', '))}`)] });
  if (event.link)
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Temporal Web UI' }, url: event.link }],
    });
  blocks.push({ type: 'context', elements: [mrkdwn(`event ${escape(event.id)} · ${event.at}`)] });
  return {
    text: clip(`${title}: ${event.message}`, 3000),
    blocks,
    metadata: { event_type: `ct_${event.kind.replace(/-/g, '_')}`, event_payload: event },
  };
}

/** Where a model's notifications go and how hard delivery is tried (the model config's `notifications`). */
export type NotificationSettings = NonNullable<ModelConfig['notifications']>;

/** A model's effective settings: `notifications`, or the deprecated `approval.notifyUrl` (reminders, escalations). */
export function notificationSettingsOf(
  config: Pick<ModelConfig, 'notifications' | 'approval'>,
): NotificationSettings | null {
  if (config.notifications) return config.notifications;
  const url = config.approval.notifyUrl;
  return url ? { url, events: NOTIFY_URL_KINDS, retry: { initialInterval: '5s', maximumAttempts: 5 } } : null;
}

export const NotifyInput = z.object({ url: z.url(), event: NotificationEvent }).strict();
export type NotifyInput = z.input<typeof NotifyInput>;
