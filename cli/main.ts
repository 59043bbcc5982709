// The `ct` command.
import { parseArgs } from 'node:util';
import { decideRun, runStatus, startRetraining } from '../client';
import { issueApprovalToken } from '../activities/approvalTokens';
import { durationMs } from '../core/approvals';
import { InvalidInputError } from '../core/parse';
import type { RunInputJson } from '../core/runInput';
import { connectClient, createAuditLog } from '../workers/config';
import { formatAuditRecord } from './auditFormat';
import { runDemo } from './demo';
import { driftCommand } from './drift';
import { runDev } from './dev';
import { cliConfig, withObjectStore } from './localStack';
import { formatRegistry, loadModelConfigFile, registerModelConfig, rollbackChampion, showRegistry } from './models';
import { formatRunSummary } from './runSummary';
import { writeSchemas } from './schemas';
import { scheduleCommand, supervisorCommand, webhookCommand } from './triggerCommands';
import { UsageError } from './usage';

const USAGE = `usage: ct <command>

  dev                                  Temporal + Web UI, MinIO and both workers in the foreground
  demo                                 the flights demo (two retraining runs), then exit
  retrain <modelId> --data <key>...    start a retrainingPipeline run
          [--by <name>] [--reason <text>] [--config <model config file>] [--wait] [--json]
  status <workflowId> [--json]         a run's stage, progress and results
  approve <workflowId> --as <name> [--comment <text>] [--token <signed token>]
  reject  <workflowId> --as <name> [--comment <text>]
  models register <config file>        validate and register a model configuration
  models validate <config file>        validate a model configuration, print it with defaults
  models show <modelId> [--json]       registry: versions, metrics, aliases
  rollback <modelId> --to <version> --as <name>   move the champion back to an earlier version (audited)
  audit show <modelId> [--json]        the model's audit records
  audit verify <modelId>               recompute the hash chain; exit 3 at the first broken link
  token --as <name> --run <workflowId> [--ttl 1d]   issue a signed approval token (needs CT_APPROVAL_SECRET)
  supervisor status <modelId> [--json]                  the supervisor's state: phase, open incident, last runs
  supervisor pause|resume <modelId> --as <name> [--reason <text>]
  supervisor retrain <modelId> --as <name> --reason <text> [--data <key>...]   manual retrain via the supervisor
  supervisor report <alert.json>                        send a drift alert (update-with-start)
  schedule create <modelId> --every <30m|6h|1d> | --cron <expr>   scheduled drift checks
          [--retrain-every <d> | --retrain-cron <expr>] [--overlap skip|buffer-one|buffer-all|cancel-other|terminate-other|allow-all] [--paused]
  schedule list [<modelId>] [--json]
  schedule pause|unpause|delete <modelId> [--kind drift-check|retrain]
  schedule backfill <modelId> --from <time> --to <time> [--kind drift-check|retrain]
  webhook                              serve POST /v1/drift-alerts (HMAC-signed; needs CT_WEBHOOK_SECRET)
  drift --reference <file|s3://…> --current <file|s3://…> [--model <config file>] [--json]
                                       compare two Parquet/CSV files offline; exit 0 no drift, 3 dataset drift, 2 bad input
  schemas                              write the JSON Schemas of all inputs and outputs to schemas/

Configuration: ct.config.{json,yaml} or CT_* environment variables (see README); without any, the local
stack of \`ct dev\` (127.0.0.1:7233, MinIO on 127.0.0.1:9000).`;


const print = (s: string) => process.stdout.write(`${s}\n`);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: 'string', multiple: true },
      by: { type: 'string' },
      as: { type: 'string' },
      reason: { type: 'string' },
      comment: { type: 'string' },
      token: { type: 'string' },
      run: { type: 'string' },
      ttl: { type: 'string' },
      to: { type: 'string' },
      config: { type: 'string' },
      reference: { type: 'string' },
      current: { type: 'string' },
      model: { type: 'string' },
      wait: { type: 'boolean' },
      every: { type: 'string' },
      cron: { type: 'string' },
      'retrain-every': { type: 'string' },
      'retrain-cron': { type: 'string' },
      overlap: { type: 'string' },
      kind: { type: 'string' },
      from: { type: 'string' },
      paused: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    print(USAGE);
    return command || values.help ? 0 : 2;
  }
  const need = (value: string | undefined, what: string): string => {
    if (!value) throw new UsageError(`${command}: missing ${what}`);
    return value;
  };

  switch (command) {
    case 'dev':
      return runDev();
    case 'demo':
      await runDemo();
      return 0;
    case 'drift':
      return driftCommand({ reference: values.reference, current: values.current, model: values.model, json: values.json }, print);
    case 'schemas':
      for (const f of writeSchemas()) print(f);
      return 0;
    case 'models': {
      const [sub, arg] = rest;
      if (sub === 'validate') {
        print(JSON.stringify(loadModelConfigFile(need(arg, 'config file')), null, 2));
        return 0;
      }
      if (sub === 'register') {
        const file = need(arg, 'config file');
        const cfg = await withObjectStore((store) => registerModelConfig(store, file));
        print(`registered ${cfg.modelId}`);
        return 0;
      }
      if (sub === 'show') {
        const modelId = need(arg, 'model id');
        const view = await withObjectStore((store) => showRegistry(store, modelId));
        print(values.json ? JSON.stringify(view, null, 2) : formatRegistry(view));
        return 0;
      }
      throw new UsageError('models: expected register, validate or show');
    }
    case 'supervisor':
      return supervisorCommand(rest[0], rest[1], values);
    case 'schedule':
      return scheduleCommand(rest[0], rest[1], values);
    case 'webhook':
      return webhookCommand();
    case 'token': {
      const secret = cliConfig().config.approvalSecret;
      if (!secret) throw new UsageError('token: set CT_APPROVAL_SECRET (the workers must share it)');
      const ttl = durationMs(values.ttl ?? '1d');
      print(issueApprovalToken(secret, { by: need(values.as, '--as <name>'), workflowId: need(values.run, '--run <workflowId>'), exp: Date.now() + ttl }));
      return 0;
    }
    case 'audit': {
      const [sub, modelId] = rest;
      if (sub !== 'show' && sub !== 'verify') throw new UsageError('audit: expected show or verify');
      const id = need(modelId, 'model id');
      const log = createAuditLog(cliConfig().config);
      return withObjectStore(async () => {
        if (sub === 'show') {
          const records = await log.records(id);
          print(values.json ? JSON.stringify(records, null, 2) : records.map(formatAuditRecord).join('\n') || `${id}: no audit records`);
          return 0;
        }
        const check = await log.verify(id);
        if (check.ok) {
          print(`${id}: audit chain intact (${check.records} records)`);
          return 0;
        }
        print(`${id}: audit chain BROKEN at record ${check.seq} of ${check.records}: ${check.reason}`);
        return 3;
      });
    }
    case 'rollback': {
      const modelId = need(rest[0], 'model id');
      const to = Number(need(values.to, '--to <version>'));
      const by = need(values.as, '--as <name>');
      const r = await withObjectStore((store) => rollbackChampion(store, createAuditLog(cliConfig().config), modelId, to, by));
      print(`${modelId}: champion ${r.from === null ? 'none' : `v${r.from}`} → v${r.to} (rollback by ${by})`);
      return 0;
    }
    case 'retrain': {
      const modelId = need(rest[0], 'model id');
      const input: RunInputJson = {
        modelId,
        dataset: { keys: values.data ?? [] },
        trigger: { kind: 'manual', requestedBy: values.by ?? process.env.USER ?? 'unknown', reason: values.reason ?? '' },
        ...(values.config ? { modelConfig: loadModelConfigFile(values.config) } : {}),
      };
      const { config } = cliConfig();
      const client = await connectClient(config);
      try {
        const handle = await startRetraining(client, input, { taskQueue: config.taskQueue });
        if (!values.wait) {
          print(values.json ? JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId }) : `started ${handle.workflowId}`);
          return 0;
        }
        const result = await handle.result();
        print(values.json ? JSON.stringify(result, null, 2) : `${handle.workflowId}\n${formatRunSummary(result)}`);
        return result.outcome === 'promoted' ? 0 : 1;
      } finally {
        await client.connection.close();
      }
    }
    case 'status':
    case 'approve':
    case 'reject': {
      const workflowId = need(rest[0], 'workflow id');
      const client = await connectClient(cliConfig().config);
      try {
        if (command === 'status') {
          const s = await runStatus(client, workflowId);
          print(values.json ? JSON.stringify(s, null, 2) : `${workflowId}: stage ${s.stage}\n${formatRunSummary(s)}`);
        } else {
          const r = await decideRun(client, workflowId, command === 'approve' ? 'approved' : 'rejected', need(values.as, '--as <name>'), values.comment ?? '', values.token);
          print(r.decision ? `${workflowId}: ${r.decision.outcome} by ${r.decision.by} (${r.approvals} of ${r.quorum} approvals)` : `${workflowId}: approval recorded, ${r.approvals} of ${r.quorum} needed`);
        }
        return 0;
      } finally {
        await client.connection.close();
      }
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ct: ${(err as Error).message}\n`);
    process.exit(err instanceof UsageError || err instanceof InvalidInputError ? 2 : 1);
  },
);
