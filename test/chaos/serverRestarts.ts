// The Temporal server restarted (state on disk) at a moment of the run: during training, during the approval wait,
// during a storm of 200 drift alerts, and across every approval deadline.
import http from 'node:http';
import { decideRun, reportDrift, runStatus } from '../../client';
import { NotificationBody } from '../../core/notifications';
import { createAuditLog } from '../../workers/config';
import { trainingHeartbeat, waitFor } from '../helpers/processes';
import type { Cell, CellContext } from './cell';
import { MODEL_ID } from './cellStack';
import { chaosModel } from './models';

const FINISHED = ['promoted', 'rejected-by-gate'] as const;
const DOWN_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops the server, keeps it down `downMs`, starts it again; notes how long it was down. */
async function restartTemporal(ctx: CellContext, downMs = DOWN_MS): Promise<void> {
  const t0 = Date.now();
  const start = await ctx.stack.stopTemporal();
  await sleep(downMs - (Date.now() - t0));
  await start();
  ctx.note(`server down ${((Date.now() - t0) / 1000).toFixed(0)} s (SIGTERM, same SQLite file and port)`);
}

const waitForApproval = (ctx: CellContext, workflowId: string) =>
  waitFor('the approval stage', async () => (await runStatus(ctx.stack.client(), workflowId)).stage === 'approval');

/** A webhook receiver on 127.0.0.1: the notifications' kinds and when they came. */
async function notificationReceiver(
  ctx: CellContext,
): Promise<{ url: string; received: { kind: string; at: number }[] }> {
  const received: { kind: string; at: number }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ kind: NotificationBody.parse(JSON.parse(body)).metadata.event_payload.kind, at: Date.now() });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ctx.defer(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, received };
}

export const serverRestartCells: Cell[] = [
  {
    name: 'temporal-restart/training',
    fault: 'restart Temporal server',
    moment: 'training',
    async run(ctx) {
      const { stack } = ctx;
      await stack.startWorkers();
      await stack.registerModel(chaosModel({ slow: true }));
      const workflowId = await stack.requestRun('temporal-training');
      const beat = await waitFor('training at step 10', async () => {
        const b = await trainingHeartbeat(stack.client().workflow.getHandle(workflowId));
        return b && b.step >= 10 ? b : null;
      });
      ctx.note(`stopped at heartbeat step ${beat.step}/${beat.totalSteps}`);
      await restartTemporal(ctx);
      const result = await stack.runResult(workflowId);
      return { result, expected: { outcomes: [...FINISHED] }, failures: [] };
    },
  },
  {
    name: 'temporal-restart/approval-wait',
    fault: 'restart Temporal server',
    moment: 'approval wait',
    async run(ctx) {
      const { stack } = ctx;
      await stack.startWorkers();
      await stack.registerModel(chaosModel({ approval: { mode: 'manual' } }));
      const workflowId = await stack.requestRun('temporal-approval');
      await waitForApproval(ctx, workflowId);
      ctx.note('stopped once the status query answered stage=approval');
      await restartTemporal(ctx);
      const stage = (await runStatus(stack.client(), workflowId)).stage;
      await decideRun(stack.client(), workflowId, 'approved', 'chaos-approver', 'after the restart');
      const result = await stack.runResult(workflowId);
      const failures = stage === 'approval' ? [] : [`after the restart the run was at stage ${stage}, not approval`];
      return { result, expected: { outcomes: ['promoted'] }, failures };
    },
  },
  {
    name: 'temporal-restart/drift-storm',
    fault: 'restart Temporal server',
    moment: 'storm of 200 drift alerts',
    async run(ctx) {
      const { stack } = ctx;
      await stack.startWorkers();
      await stack.registerModel(chaosModel());
      let answered = 0;
      let firstAnswer!: () => void;
      const answeredOnce = new Promise<void>((r) => (firstAnswer = r));
      const storm = Array.from({ length: 200 }, (_, i) =>
        reportDrift(
          stack.client(),
          {
            alertId: `storm-${i}`,
            modelId: MODEL_ID,
            source: 'chaos',
            datasetDrift: true,
            driftedShare: 0.6,
            driftedFeatures: ['distance', 'origin', 'destination'],
          },
          { taskQueue: stack.config.taskQueue },
        ).finally(() => {
          answered++;
          firstAnswer();
        }),
      );
      await answeredOnce;
      const stopping = restartTemporal(ctx);
      ctx.note(`stop began at the first answer (${answered} of 200 answered by then)`);
      await stopping;
      const acks = await Promise.all(storm);
      const actions = acks.reduce<Record<string, number>>((n, a) => ({ ...n, [a.action]: (n[a.action] ?? 0) + 1 }), {});
      ctx.note(`answers ${JSON.stringify(actions)}`);
      const workflowId = await waitFor(
        'the run the storm started',
        async () => (await stack.supervisor()).incident?.run?.workflowId,
        60_000,
      );
      const result = await stack.runResult(workflowId);
      const incident = (await stack.supervisor()).incident;
      const failures: string[] = [];
      if (actions.started !== 1) failures.push(`${actions.started ?? 0} reports started a run, expected 1`);
      if (incident?.evidenceCount !== 200)
        failures.push(`the incident holds ${incident?.evidenceCount} reports, expected 200`);
      return { result, expected: { outcomes: [...FINISHED] }, failures };
    },
  },
  {
    name: 'temporal-restart/approval-deadlines',
    fault: 'Temporal server down',
    moment: 'reminder, escalation, rejection deadlines',
    async run(ctx) {
      const { stack } = ctx;
      const hook = await notificationReceiver(ctx);
      await stack.startWorkers();
      const approval = {
        mode: 'manual' as const,
        roles: { 'ml-lead': ['alice'], risk: ['carol'] },
        approverRoles: ['ml-lead'],
        escalationRoles: ['risk'],
        reminderAfter: '10s',
        escalateAfter: '20s',
        rejectAfter: '30s',
      };
      await stack.registerModel(chaosModel({ approval, notifyUrl: hook.url }));
      const workflowId = await stack.requestRun('deadlines');
      await waitForApproval(ctx, workflowId);
      const waitStarted = Date.now();
      await restartTemporal(ctx, 40_000);
      const restarted = Date.now();
      ctx.note(`deadlines at 10/20/30 s of the wait all fell while the server was down`);
      const result = await stack.runResult(workflowId);
      const failures: string[] = [];
      if (result.decision?.mode !== 'timeout') failures.push(`decided by ${result.decision?.mode}, expected timeout`);
      await waitFor(
        'the reminder and escalation notifications',
        async () => ['reminder', 'escalation'].every((k) => hook.received.some((n) => n.kind === k)),
        30_000,
      ).catch(() => failures.push(`notifications received: ${hook.received.map((n) => n.kind).join(', ') || 'none'}`));
      const late = hook.received.filter((n) => n.kind === 'reminder' || n.kind === 'escalation');
      if (late.some((n) => n.at < restarted)) failures.push('a deadline notification came before the restart');
      ctx.note(
        `after the restart: ${late.map((n) => `${n.kind} +${((n.at - restarted) / 1000).toFixed(1)} s`).join(', ')}; wait began ${((restarted - waitStarted) / 1000).toFixed(0)} s before the restart`,
      );
      const audit = await createAuditLog(stack.config).records(MODEL_ID);
      if (!audit.some((r) => r.kind === 'escalation')) failures.push('no escalation in the audit chain');
      if (audit.find((r) => r.kind === 'decision')?.actor !== 'timeout')
        failures.push('the audited decision is not by timeout');
      return { result, expected: { outcomes: ['rejected'] }, failures };
    },
  },
];
