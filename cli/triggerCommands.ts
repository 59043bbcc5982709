// `ct supervisor …`, `ct schedule …` and `ct webhook`: starting and steering continuous training.
import { readFileSync } from 'node:fs';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { pauseSupervisor, reportDrift, requestRetrain, resumeSupervisor, supervisorStatus } from '../client/supervisor';
import type { SupervisorAck } from '../core/supervisorMessages';
import {
  backfillSchedules,
  createSchedules,
  deleteSchedules,
  listSchedules,
  pauseSchedules,
  type ScheduleKind,
} from '../triggers/schedules';
import { startWebhook } from '../triggers/webhook';
import { SIGNATURE_FORMAT } from '../core/signatureHeader';
import { connectClient, createObjectStore } from '../workers/config';
import { createLogger } from '../workers/logging';
import { keys } from '../core/keys';
import { InvalidInputError } from '../core/parse';
import { cliConfig, withObjectStore } from './localStack';
import { supervisorBlock } from './statusView';
import { UsageError } from './usage';
import { type Acting, acting } from './identity';

/** A request's requester: the acting person, with their ID token where identities are verified. */
const requestedByFields = (who: Acting) => ({ requestedBy: who.by, ...(who.idToken ? { idToken: who.idToken } : {}) });

export interface TriggerFlags {
  json?: boolean;
  as?: string;
  by?: string;
  reason?: string;
  data?: string[];
  every?: string;
  cron?: string;
  'retrain-every'?: string;
  'retrain-cron'?: string;
  overlap?: string;
  kind?: string;
  from?: string;
  to?: string;
  paused?: boolean;
}

const print = (s: string) => process.stdout.write(`${s}\n`);

/** Runs `fn` with a connected client; a missing supervisor is named as such (bad input). */
export async function withClient<T>(fn: (client: Client, taskQueue: string) => Promise<T>): Promise<T> {
  const { config } = cliConfig();
  const client = await connectClient(config);
  try {
    return await fn(client, config.taskQueue);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError && err.workflowId?.startsWith('ct/')) {
      throw new UsageError(
        `no supervisor ${err.workflowId} is running: it starts with the model's first drift report or retrain request (ct supervisor retrain <modelId> …)`,
      );
    }
    throw err;
  } finally {
    await client.connection.close();
  }
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

export function formatAck(ack: SupervisorAck): string {
  return `${ack.action}${ack.incidentId ? ` (${ack.incidentId})` : ''}: ${ack.message}`;
}

function kindOf(flag: string | undefined): ScheduleKind | undefined {
  if (flag === undefined) return undefined;
  if (flag !== 'drift-check' && flag !== 'retrain')
    throw new UsageError(`--kind must be drift-check or retrain, not "${flag}"`);
  return flag;
}

function dateOf(flag: string | undefined, what: string): Date {
  const d = new Date(need(flag, what));
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`${what}: "${flag}" is not a date (use ISO 8601, e.g. 2026-11-01T00:00:00Z)`);
  return d;
}

/** ct supervisor status|pause|resume|retrain|report <modelId|alert file> */
export async function supervisorCommand(
  sub: string | undefined,
  arg: string | undefined,
  flags: TriggerFlags,
): Promise<number> {
  switch (sub) {
    case 'status':
      return withClient(async (client) => {
        const s = await supervisorStatus(client, need(arg, 'model id'));
        print(flags.json ? JSON.stringify(s, null, 2) : supervisorBlock(s).join('\n'));
        return 0;
      });
    case 'pause':
    case 'resume':
      return withClient(async (client) => {
        const modelId = need(arg, 'model id');
        const who = acting(flags.as);
        const r = await (sub === 'pause' ? pauseSupervisor : resumeSupervisor)(
          client,
          modelId,
          who.by,
          flags.reason ?? '',
          who.idToken,
        );
        print(`${modelId}: ${sub === 'pause' ? 'paused' : 'resumed'} by ${r.by}`);
        return 0;
      });
    case 'retrain':
      return withClient(async (client, taskQueue) => {
        const modelId = need(arg, 'model id');
        const ack = await requestRetrain(
          client,
          modelId,
          {
            kind: 'manual',
            ...requestedByFields(acting(flags.as ?? flags.by)),
            reason: need(flags.reason, '--reason <text>'),
            ...(flags.data?.length ? { datasetKeys: flags.data } : {}),
          },
          { taskQueue },
        );
        print(flags.json ? JSON.stringify(ack) : `${modelId}: ${formatAck(ack)}`);
        return 0;
      });
    case 'report':
      return withClient(async (client, taskQueue) => {
        const file = need(arg, 'alert file (JSON)');
        let alert: unknown;
        try {
          alert = JSON.parse(readFileSync(file, 'utf8'));
        } catch (err) {
          throw new UsageError(`cannot read the alert ${file}: ${(err as Error).message}`);
        }
        const ack = await reportDrift(client, alert as never, { taskQueue });
        print(flags.json ? JSON.stringify(ack) : formatAck(ack));
        return 0;
      });
    default:
      throw new UsageError('supervisor: expected status, pause, resume, retrain or report');
  }
}

/** ct schedule create|list|pause|unpause|delete|backfill */
export async function scheduleCommand(
  sub: string | undefined,
  modelId: string | undefined,
  flags: TriggerFlags,
): Promise<number> {
  return withClient(async (client, taskQueue) => {
    switch (sub) {
      case 'create': {
        const model = need(modelId, 'model id');
        // A schedule for a model nobody registered would fail every time it fires: refuse it now.
        if (!(await withObjectStore((store) => store.exists(keys.registeredConfig(model))))) {
          throw new InvalidInputError('schedule', [
            `model "${model}" is not registered (ct models register <config file>)`,
          ]);
        }
        const ids = await createSchedules(
          client,
          {
            modelId: model,
            every: flags.every,
            cron: flags.cron,
            retrainEvery: flags['retrain-every'],
            retrainCron: flags['retrain-cron'],
            ...(flags.overlap ? { overlap: flags.overlap as 'skip' } : {}),
            paused: flags.paused ?? false,
          },
          taskQueue,
        );
        print(`created ${ids.join(', ')}`);
        return 0;
      }
      case 'list': {
        const list = await listSchedules(client, modelId);
        if (flags.json) print(JSON.stringify(list, null, 2));
        else if (list.length === 0) print(modelId ? `no schedules for ${modelId}` : 'no schedules');
        else
          for (const s of list)
            print(`${s.scheduleId}  ${s.paused ? 'PAUSED' : 'active'}  ${s.spec}  next ${s.nextRuns[0] ?? '-'}`);
        return 0;
      }
      case 'pause':
      case 'unpause': {
        const ids = await pauseSchedules(
          client,
          need(modelId, 'model id'),
          sub === 'pause',
          flags.reason ?? `ct schedule ${sub}`,
          kindOf(flags.kind),
        );
        print(`${sub === 'pause' ? 'paused' : 'unpaused'} ${ids.join(', ')}`);
        return 0;
      }
      case 'delete': {
        const ids = await deleteSchedules(client, need(modelId, 'model id'), kindOf(flags.kind));
        print(`deleted ${ids.join(', ')}`);
        return 0;
      }
      case 'backfill': {
        const ids = await backfillSchedules(
          client,
          need(modelId, 'model id'),
          dateOf(flags.from, '--from <time>'),
          dateOf(flags.to, '--to <time>'),
          kindOf(flags.kind),
        );
        print(`backfilling ${ids.join(', ')} from ${flags.from} to ${flags.to}`);
        return 0;
      }
      default:
        throw new UsageError('schedule: expected create, list, pause, unpause, delete or backfill');
    }
  });
}

/** ct webhook: serves the drift-alert endpoint in the foreground until Ctrl-C. */
export async function webhookCommand(): Promise<number> {
  const { config } = cliConfig();
  if (!config.webhook.secret) {
    throw new UsageError(
      'webhook: set CT_WEBHOOK_SECRET (at least 16 characters); senders sign each alert (timestamp and body) with it',
    );
  }
  const logger = createLogger(config.logLevel);
  const client = await connectClient(config);
  const { secret, host, port, toleranceSeconds } = config.webhook;
  const store = createObjectStore(config);
  const { taskQueue } = config;
  const hook = await startWebhook({ client, store, secret, taskQueue, logger, host, port, toleranceSeconds });
  print(`drift alerts: POST ${hook.url}`);
  print(`  header X-CT-Signature: ${SIGNATURE_FORMAT}, t within ${toleranceSeconds} s of now`);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  await hook.close();
  await client.connection.close();
  return 0;
}
