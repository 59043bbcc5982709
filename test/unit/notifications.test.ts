// Notifications: the event ids, the Slack-compatible body, the model-config block (and the deprecated
// approval.notifyUrl), and the signature a receiver checks.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { signatureProblem, signWebhookBody } from '../../adapters/webhookSignature';
import { ModelConfig } from '../../core/modelConfig';
import {
  NotificationBody,
  notificationBody,
  notificationEventId,
  notificationSettingsOf,
  webUiRunLink,
} from '../../core/notifications';
import { testModelConfig } from '../helpers/flights';

const event = {
  id: notificationEventId('retrain/m1/x', 'run-1', 'approval-requested', 0),
  kind: 'approval-requested' as const,
  modelId: 'm1',
  workflowId: 'retrain/m1/x',
  runId: 'run-1',
  at: '2026-12-02T01:00:00.000Z',
  message: 'm1 run retrain/m1/x waits for approval <!channel> & more',
  approvers: ['alice', 'bob'],
  facts: { version: '3', quorum: '0 of 1' },
  link: webUiRunLink('http://localhost:8233/', 'default', 'retrain/m1/x', 'run-1'),
};

describe('notification events', () => {
  it('ids name the workflow, the run, the kind and the position: the same input gives the same id', () => {
    assert.equal(event.id, 'retrain/m1/x/run-1/approval-requested/0');
    assert.notEqual(notificationEventId('w', 'r', 'reminder', 0), notificationEventId('w', 'r', 'reminder', 1));
    assert.notEqual(notificationEventId('w', 'r1', 'reminder', 0), notificationEventId('w', 'r2', 'reminder', 0));
  });

  it('link to the run in the Web UI, the workflow id escaped', () => {
    assert.equal(event.link, 'http://localhost:8233/namespaces/default/workflows/retrain%2Fm1%2Fx/run-1/history');
  });
});

describe('the Slack-compatible body', () => {
  const body = notificationBody(event);
  it('has a fallback text, blocks and the event as metadata, and matches its own schema', () => {
    NotificationBody.parse(body);
    assert.match(body.text, /^Approval requested: m1: /);
    assert.equal(body.metadata.event_type, 'ct_approval_requested');
    assert.deepEqual(body.metadata.event_payload, event);
    assert.deepEqual(
      body.blocks.map((b) => b.type),
      ['header', 'section', 'section', 'context', 'actions', 'context'],
    );
  });

  it('escapes Slack markup in run text, names the approvers and links the run', () => {
    const json = JSON.stringify(body.blocks);
    assert.ok(json.includes('&lt;!channel&gt; &amp; more'), json);
    assert.ok(!json.includes('<!channel>'));
    assert.ok(json.includes('May approve: alice, bob'));
    assert.ok(json.includes(`<${event.link}|retrain/m1/x>`));
    assert.ok(json.includes('*version*\\n3'));
  });

  it('leaves out what is not known: no approvers, no link', () => {
    const plain = notificationBody({ ...event, kind: 'run-failed', approvers: [], link: undefined });
    assert.deepEqual(
      plain.blocks.map((b) => b.type),
      ['header', 'section', 'section', 'context'],
    );
    assert.match(plain.text, /^Run failed: m1/);
  });

  it('titles a promotion with its version', () => {
    assert.match(notificationBody({ ...event, kind: 'model-promoted' }).text, /^Promoted: m1 v3: /);
  });

  it('refuses an event that is not one (unknown kind, bad time)', () => {
    assert.throws(() => notificationBody({ ...event, kind: 'party' as never }), /kind/);
    assert.throws(() => notificationBody({ ...event, at: 'yesterday' }), /at/);
  });
});

describe('notification settings in the model config', () => {
  const base = testModelConfig();
  it('default to every event and 5 attempts from 5 s', () => {
    const cfg = ModelConfig.parse({ ...base, notifications: { url: 'http://127.0.0.1:9/hook' } });
    assert.deepEqual(notificationSettingsOf(cfg), {
      url: 'http://127.0.0.1:9/hook',
      events: ['incident-opened', 'approval-requested', 'reminder', 'escalation', 'run-failed', 'model-promoted'],
      retry: { initialInterval: '5s', maximumAttempts: 5 },
    });
  });

  it('the deprecated approval.notifyUrl still receives reminders and escalations only', () => {
    const cfg = ModelConfig.parse({ ...base, approval: { ...base.approval, notifyUrl: 'http://127.0.0.1:9/n' } });
    assert.deepEqual(notificationSettingsOf(cfg)?.events, ['reminder', 'escalation']);
    assert.equal(notificationSettingsOf(base), null);
  });

  it('refuses both at once, unknown events and a bad retry interval, naming the field', () => {
    const both = ModelConfig.safeParse({
      ...base,
      approval: { ...base.approval, notifyUrl: 'http://127.0.0.1:9/n' },
      notifications: { url: 'http://127.0.0.1:9/hook' },
    });
    assert.deepEqual(both.error?.issues[0]?.path, ['approval', 'notifyUrl']);
    assert.match(both.error.issues[0].message, /deprecated and cannot be combined with notifications/);
    const bad = ModelConfig.safeParse({
      ...base,
      notifications: { url: 'http://127.0.0.1:9/hook', events: ['run-crashed'], retry: { initialInterval: 'soon' } },
    });
    assert.deepEqual(bad.error?.issues.map((i) => i.path.join('.')).sort(), [
      'notifications.events.0',
      'notifications.retry.initialInterval',
    ]);
  });
});

describe('the signature on a notification', () => {
  it('is the drift webhook scheme: HMAC-SHA256 of "<t>.<raw body>", which a receiver recomputes', () => {
    const secret = 'notify-secret-0123456';
    const raw = JSON.stringify(notificationBody(event));
    const now = Date.UTC(2026, 11, 2, 1);
    const header = signWebhookBody(secret, raw, now);
    const t = Math.floor(now / 1000);
    const expected = createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex');
    assert.equal(header, `t=${t},v1=${expected}`);
    assert.equal(signatureProblem(secret, Buffer.from(raw), header, now, 300), null);
    assert.match(signatureProblem(secret, Buffer.from(`${raw} `), header, now, 300)!, /does not match/);
  });
});
