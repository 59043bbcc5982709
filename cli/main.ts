// The `ct` command: one commander program, each command with its own --help. Exit codes: 0 ok, 1 failure,
// 2 bad input (usage, flags, files, configs, unknown ids, an unreachable Temporal or S3; cli/usage.ts exitCodeOf),
// 3 a finding (drift, a broken audit chain).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import {
  decideRun,
  makeBuildCurrent,
  rollbackModel,
  RollbackRefusedError,
  runStatus,
  startRetraining,
} from '../client';
import { issueGovernanceToken } from '../adapters/governanceKeys';
import { durationMs } from '../core/approvals';
import { identityMode } from '../core/appConfig';
import { ModelId } from '../core/modelConfig';
import { InvalidInputError, parseOrThrow, reasonOf } from '../core/parse';
import type { RunInputJson } from '../core/runInput';
import { createAuditLog } from '../workers/config';
import { formatAuditRecord } from './auditFormat';
import { type CodecServerFlags, codecServerCommand } from './codecCommand';
import { driftCommand } from './drift';
import { runDev } from './dev';
import { cliConfig, withObjectStore } from './localStack';
import { assertKnownModel, formatRegistry, loadModelConfigFile, registerModelConfig, showRegistry } from './models';
import { formatRunSummary } from './runSummary';
import { intervalMs, modelFrame, resolveTarget, runFrame, watch } from './statusWatch';
import { writeSchemas } from './schemas';
import { type TriggerFlags, scheduleCommand, supervisorCommand, webhookCommand, withClient } from './triggerCommands';
import { buildReport, formatReport, type ReportFlags, reportCsv } from './report';
import { assertWritable, reportHtml, writeHtmlFile } from './reportHtml';
import { exitCodeOf, UsageError } from './usage';
import { acting, loginCommand, logoutCommand, whoamiCommand } from './identity';

const print = (s: string) => process.stdout.write(`${s}\n`);
let exitCode = 0;
/** Wraps a command's action: its return value is the process's exit code. */
const run =
  <A extends unknown[]>(fn: (...args: A) => Promise<number | void>) =>
  async (...args: A) => {
    exitCode = (await fn(...args)) ?? 0;
  };

const versionNumber = (text: string): number => {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1)
    throw new InvalidInputError('--to', [`expected a version number (1, 2, …), got "${text}"`]);
  return v;
};

const INTERRUPTED = 130;
const stoppedWatching = (workflowId: string) =>
  print(`stopped watching ${workflowId}; the run goes on (ct status ${workflowId} --watch)`);
const watchOptions = (json: boolean, intervalMs: number) => ({
  json,
  intervalMs,
  // A terminal that reports no width (some CI pseudo-terminals) gets the piped form: log-update would draw nothing.
  tty: process.stdout.isTTY === true && process.stdout.columns > 0,
  out: process.stdout,
});

/**
 * A run's status, or a model's (its supervisor and the run in flight): see resolveTarget for which. With --watch,
 * polls until the run closes (exit 0 whatever its outcome, as without --watch) or Ctrl-C (exit 130).
 */
async function statusCommand(
  arg: string,
  opts: { json?: boolean; watch?: boolean; interval?: string },
): Promise<number> {
  const interval = intervalMs(opts.interval);
  return withClient(async (client) => {
    const target = await resolveTarget(client, arg);
    const next = () =>
      target.kind === 'run' ? runFrame(client, target.workflowId) : modelFrame(client, target.modelId);
    if (!opts.watch) {
      const f = await next();
      print(opts.json ? JSON.stringify(f.json, null, 2) : f.block.join('\n'));
      return 0;
    }
    const last = await watch(next, watchOptions(opts.json === true, interval));
    if (!last) {
      stoppedWatching(arg);
      return INTERRUPTED;
    }
    if (!opts.json) print(last.block.join('\n'));
    return 0;
  });
}

async function retrainCommand(
  modelId: string,
  opts: { data?: string[]; by?: string; reason?: string; config?: string; wait?: boolean; json?: boolean },
): Promise<number> {
  const who = acting(
    opts.by ?? (identityMode(cliConfig().config) === 'dev' ? (process.env.USER ?? 'unknown') : undefined),
  );
  const input: RunInputJson = {
    modelId,
    dataset: { keys: opts.data ?? [] },
    trigger: {
      kind: 'manual',
      requestedBy: who.by,
      ...(who.idToken ? { idToken: who.idToken } : {}),
      reason: opts.reason ?? '',
    },
    ...(opts.config ? { modelConfig: loadModelConfigFile(opts.config) } : {}),
  };
  return withClient(async (client, taskQueue) => {
    const handle = await startRetraining(client, input, { taskQueue });
    if (!opts.wait) {
      print(
        opts.json
          ? JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId })
          : `started ${handle.workflowId}`,
      );
      return 0;
    }
    // The live view of `ct status --watch` until the run closes; with --json only the final status is printed.
    if (!opts.json) {
      print(`started ${handle.workflowId}`);
      if (!(await watch(() => runFrame(client, handle.workflowId), watchOptions(false, 1000)))) {
        stoppedWatching(handle.workflowId);
        return INTERRUPTED;
      }
    }
    try {
      const result = await handle.result();
      print(opts.json ? JSON.stringify(result, null, 2) : `${handle.workflowId}\n${formatRunSummary(result)}`);
      return result.outcome === 'promoted' ? 0 : 1;
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      // The run failed: say where and why, as `ct status` does (the query still answers for a closed run).
      const s = await runStatus(client, handle.workflowId).catch(() => null);
      const stageFailure = err.cause;
      const cause = (stageFailure?.cause as Error | undefined)?.message ?? reasonOf(err);
      if (opts.json && s) print(JSON.stringify(s, null, 2));
      else
        print(
          `${handle.workflowId}: failed${s ? ` at stage ${s.timings.at(-1)?.stage ?? s.stage}` : ''}: ${cause}${s ? `\n${formatRunSummary(s)}` : ''}`,
        );
      return 1;
    }
  });
}

async function decideCommand(
  outcome: 'approved' | 'rejected',
  workflowId: string,
  opts: { as?: string; comment?: string; token?: string },
): Promise<number> {
  const who = acting(opts.as);
  return withClient(async (client) => {
    const r = await decideRun(client, workflowId, outcome, who.by, opts.comment ?? '', opts.token, who.idToken);
    print(
      r.decision
        ? `${workflowId}: ${r.decision.outcome} by ${r.decision.by} (${r.approvals} of ${r.quorum} approvals)`
        : `${workflowId}: approval recorded, ${r.approvals} of ${r.quorum} needed`,
    );
    return 0;
  });
}

async function tokenCommand(opts: {
  as: string;
  run?: string;
  runId?: string;
  rollback?: string;
  to?: string;
  ttl: string;
}): Promise<number> {
  const secret = cliConfig().config.approvalSecret;
  if (!secret) throw new UsageError('token: set CT_APPROVAL_SECRET (the workers must share it)');
  const ttl = durationMs(opts.ttl);
  if (Boolean(opts.run) === Boolean(opts.rollback))
    throw new UsageError('token: give either --run <workflowId> or --rollback <modelId> --to <version>');
  if (opts.rollback) {
    const modelId = parseOrThrow(ModelId, opts.rollback, 'model id');
    if (!opts.to) throw new UsageError('token: --rollback needs --to <version>');
    print(issueGovernanceToken(secret, opts.as, { act: 'rollback', modelId, version: versionNumber(opts.to) }, ttl));
    return 0;
  }
  const workflowId = opts.run!;
  // A token is bound to one run: the run id of the execution now open under this workflow id.
  const runId =
    opts.runId ??
    (await withClient(async (client) => {
      const d = await client.workflow.getHandle(workflowId).describe();
      if (d.status.name !== 'RUNNING')
        throw new InvalidInputError('token', [
          `run ${workflowId} is ${d.status.name.toLowerCase()}: tokens are issued for a run that awaits approval`,
        ]);
      return d.runId;
    }));
  print(issueGovernanceToken(secret, opts.as, { act: 'decide-run', workflowId, runId }, ttl));
  return 0;
}

async function rollbackCommand(
  modelId: string,
  opts: { to: string; as?: string; reason?: string; token?: string; override?: boolean },
): Promise<number> {
  const who = acting(opts.as);
  const input = {
    modelId,
    toVersion: versionNumber(opts.to),
    by: who.by,
    reason: opts.reason ?? '',
    override: opts.override ?? false,
    ...(opts.token ? { token: opts.token } : {}),
    ...(who.idToken ? { idToken: who.idToken } : {}),
  };
  return withClient(async (client, taskQueue) => {
    try {
      const r = await rollbackModel(client, input, { taskQueue });
      print(
        `${modelId}: champion ${r.from === null ? 'none' : `v${r.from}`} → v${r.to} (rollback by ${r.by}${r.override ? ', override' : ''})`,
      );
      return 0;
    } catch (err) {
      if (!(err instanceof RollbackRefusedError)) throw err;
      process.stderr.write(`ct: ${err.message}\n`);
      return err.type === 'RollbackRefused' ? 1 : 2;
    }
  });
}

async function auditCommand(sub: 'show' | 'verify', modelId: string, opts: { json?: boolean }): Promise<number> {
  const id = parseOrThrow(ModelId, modelId, 'model id');
  const log = createAuditLog(cliConfig().config);
  return withObjectStore(async (store) => {
    await assertKnownModel(store, id);
    if (sub === 'show') {
      const records = await log.records(id);
      print(
        opts.json
          ? JSON.stringify(records, null, 2)
          : records.map(formatAuditRecord).join('\n') || `${id}: no audit records`,
      );
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

const asOption = () =>
  new Option(
    '--as <name>',
    'who acts (required in identity mode dev; in oidc mode the person signed in with ct login)',
  );
const jsonOption = () => new Option('--json', 'print JSON');

/** The trigger commands take one flag object; commander names `--retrain-every` retrainEvery. */
const triggerFlags = (o: Record<string, unknown>): TriggerFlags => ({
  ...o,
  'retrain-every': o.retrainEvery as string | undefined,
  'retrain-cron': o.retrainCron as string | undefined,
});

/** The `ct` program, every command on it (exported for the in-process CLI fuzz test). */
export function program(): Command {
  const ct = new Command('ct')
    .description('continuous training on Temporal: retraining runs, the supervisor, drift checks, the registry')
    .addHelpText(
      'after',
      '\nConfiguration: ct.config.{json,yaml} or CT_* environment variables (see README); without any, the local\n' +
        'stack of `ct dev` (127.0.0.1:7233, MinIO on 127.0.0.1:9000). `ct <command> --help` describes each command.',
    )
    .showHelpAfterError('(ct <command> --help shows its usage)');

  ct.command('login')
    .description('sign in with the OpenID Connect provider (identity mode oidc): prints the URL to open')
    .action(run(() => loginCommand(print)));
  ct.command('logout')
    .description('forget the cached sign-in')
    .action(run(() => Promise.resolve(logoutCommand(print))));
  ct.command('whoami')
    .description('who ct acts for')
    .action(run(() => Promise.resolve(whoamiCommand(print))));
  ct.command('dev').description('Temporal + Web UI, MinIO and both workers in the foreground').action(run(runDev));
  ct.command('demo [model]')
    .description(
      "an example model (flight-delay, the default, or digits): a champion, a drift check that finds drift, the supervisor's retrain",
    )
    // Loaded when run: the demo's in-process workers bring the worker SDK, which no other command needs.
    .action(run(async (model?: string) => (await import('./demo')).runDemo(model)));
  ct.command('retrain <modelId>')
    .description('start a retrainingPipeline run')
    .requiredOption('--data <key...>', 'object keys of the Parquet/CSV files to train on, in time order')
    .option('--by <name>', 'who asks (default: $USER)')
    .option('--reason <text>', 'why')
    .option('--config <file>', 'inline model config (YAML/JSON) instead of the registered one')
    .option('--wait', 'show the run live (as ct status --watch) and print its outcome (exit 1 unless promoted)')
    .addOption(jsonOption())
    .action(run(retrainCommand));
  ct.command('status <workflowIdOrModelId>')
    .description(
      "a run's stage, progress and results; for a model (<modelId> or ct/<modelId>): its supervisor and the run in flight",
    )
    .option('--watch', 'follow it: redrawn in place in a terminal, a line per change when piped (Ctrl-C stops)')
    .option('--interval <seconds>', 'how often --watch polls', '1')
    .addOption(new Option('--json', 'print JSON (with --watch: one object per line per change)'))
    .action(run(statusCommand));
  for (const [name, outcome] of [
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ] as const) {
    ct.command(`${name} <workflowId>`)
      .description(`${name} a run that awaits approval`)
      .addOption(asOption())
      .option('--comment <text>', 'recorded with the decision')
      .option('--token <token>', 'signed token (ct token --run), when the model requires signed approvals')
      .action(run((id: string, o: { as: string; comment?: string; token?: string }) => decideCommand(outcome, id, o)));
  }

  const models = ct.command('models').description('model configurations and the registry');
  models
    .command('register <file>')
    .description('validate and register a model configuration')
    .action(
      run(async (file: string) => {
        const cfg = await withObjectStore((store) => registerModelConfig(store, file));
        print(`registered ${cfg.modelId}`);
      }),
    );
  models
    .command('validate <file>')
    .description('validate a model configuration, print it with defaults')
    .action(run(async (file: string) => void print(JSON.stringify(loadModelConfigFile(file), null, 2))));
  models
    .command('show <modelId>')
    .description('registry: versions, metrics, aliases')
    .addOption(jsonOption())
    .action(
      run(async (modelId: string, o: { json?: boolean }) => {
        const view = await withObjectStore((store) => showRegistry(store, modelId));
        print(o.json ? JSON.stringify(view, null, 2) : formatRegistry(view));
      }),
    );

  ct.command('rollback <modelId>')
    .description("move the champion back to an earlier approved version (the model's governance applies; audited)")
    .requiredOption('--to <version>', 'the version to make champion again')
    .addOption(asOption())
    .option('--reason <text>', 'why (required with --override)')
    .option('--token <token>', 'signed token (ct token --rollback), when the model requires signed approvals')
    .option(
      '--override',
      'escalation roles only, where approval.rollback.allowOverride: roll back to a version never approved',
    )
    .action(run(rollbackCommand));

  ct.command('report')
    .description('the factory report: throughput, cycle time, scrap and cost of the runs started in a window')
    .option('--model <modelId>', 'one model (default: the fleet, and each model)')
    .option('--since <when>', 'a duration before --until (30d, 12h) or an ISO date', '30d')
    .option('--until <when>', 'an ISO date or a duration before now (default: now)')
    .addOption(jsonOption())
    .option('--csv', 'one CSV row per model (and the fleet), then one per worker slot')
    .option('--html <file>', 'write one self-contained HTML page with charts to <file> (and print the summary)')
    .action(
      run(async (o: ReportFlags & { json?: boolean; csv?: boolean; html?: string }) => {
        if ([o.json, o.csv, o.html].filter(Boolean).length > 1)
          throw new UsageError('report: give at most one of --json, --csv and --html <file>');
        if (o.html) await assertWritable(o.html);
        const report = await withClient((client) =>
          withObjectStore((store) => buildReport(client, store, cliConfig().config, o)),
        );
        if (o.html) await writeHtmlFile(o.html, await reportHtml(report));
        print(o.json ? JSON.stringify(report, null, 2) : o.csv ? reportCsv(report) : formatReport(report));
        if (o.html) print(`wrote ${o.html}`);
      }),
    );

  ct.command('release <buildId>')
    .description(
      'make a build current under Worker Versioning: new runs and the supervisors go to it; runs already started finish on theirs',
    )
    .option('--deployment <name>', 'the Worker Deployment (default: deployment.name, CT_DEPLOYMENT_NAME, or ct)')
    .action(
      run(async (buildId: string, o: { deployment?: string }) => {
        const deploymentName = o.deployment ?? cliConfig().config.deployment.name;
        await withClient((client) => makeBuildCurrent(client, { deploymentName, buildId }));
        print(`${deploymentName}: build ${buildId} is current`);
      }),
    );

  const audit = ct.command('audit').description("the model's audit chain");
  audit
    .command('show <modelId>')
    .description("the model's audit records")
    .addOption(jsonOption())
    .action(run((id: string, o: { json?: boolean }) => auditCommand('show', id, o)));
  audit
    .command('verify <modelId>')
    .description('recompute the hash chain; exit 3 at the first broken link')
    .action(run((id: string) => auditCommand('verify', id, {})));

  ct.command('token')
    .description('issue a signed, single-use governance token (needs CT_APPROVAL_SECRET)')
    .addOption(asOption())
    .option('--run <workflowId>', 'for approving or rejecting this run (bound to its current run id)')
    .option('--run-id <runId>', 'bind to this run id instead of the open one')
    .option('--rollback <modelId>', 'for rolling this model back (with --to)')
    .option('--to <version>', 'the version of --rollback')
    .option('--ttl <duration>', 'validity, e.g. 30m, 4h, 1d', '1d')
    .action(run(tokenCommand));

  const sup = ct
    .command('supervisor')
    .description("a model's continuousTraining supervisor (workflow id ct/<modelId>)");
  sup
    .command('status <modelId>')
    .description("the supervisor's state: phase, open incident, last runs")
    .addOption(jsonOption())
    .action(run((id: string, o: Record<string, unknown>) => supervisorCommand('status', id, triggerFlags(o))));
  for (const sub of ['pause', 'resume'] as const) {
    sup
      .command(`${sub} <modelId>`)
      .description(`${sub} the supervisor`)
      .addOption(asOption())
      .option('--reason <text>')
      .action(run((id: string, o: Record<string, unknown>) => supervisorCommand(sub, id, triggerFlags(o))));
  }
  sup
    .command('retrain <modelId>')
    .description('manual retrain via the supervisor')
    .addOption(asOption())
    .requiredOption('--reason <text>', 'why')
    .option('--data <key...>', 'train on these files (default: the newest windows)')
    .addOption(jsonOption())
    .action(run((id: string, o: Record<string, unknown>) => supervisorCommand('retrain', id, triggerFlags(o))));
  sup
    .command('report <alertFile>')
    .description('send a drift alert (JSON) with update-with-start')
    .addOption(jsonOption())
    .action(run((f: string, o: Record<string, unknown>) => supervisorCommand('report', f, triggerFlags(o))));

  const sched = ct.command('schedule').description('Temporal Schedules of drift checks and retraining');
  const kind = () => new Option('--kind <kind>', 'which schedule').choices(['drift-check', 'retrain']);
  sched
    .command('create <modelId>')
    .description('scheduled drift checks (and optionally retraining)')
    .option('--every <interval>', 'e.g. 30m, 6h, 1d')
    .option('--cron <expr>', 'cron expression instead of --every')
    .option('--retrain-every <interval>', 'also retrain on this interval')
    .option('--retrain-cron <expr>', 'also retrain on this cron expression')
    .addOption(
      new Option('--overlap <policy>', 'when a run is still going').choices([
        'skip',
        'buffer-one',
        'buffer-all',
        'cancel-other',
        'terminate-other',
        'allow-all',
      ]),
    )
    .option('--paused', 'create paused')
    .action(run((id: string, o: Record<string, unknown>) => scheduleCommand('create', id, triggerFlags(o))));
  sched
    .command('list [modelId]')
    .description('schedules and their next runs')
    .addOption(jsonOption())
    .action(run((id: string | undefined, o: Record<string, unknown>) => scheduleCommand('list', id, triggerFlags(o))));
  for (const sub of ['pause', 'unpause', 'delete'] as const) {
    sched
      .command(`${sub} <modelId>`)
      .description(`${sub} the model's schedules`)
      .addOption(kind())
      .option('--reason <text>')
      .action(run((id: string, o: Record<string, unknown>) => scheduleCommand(sub, id, triggerFlags(o))));
  }
  sched
    .command('backfill <modelId>')
    .description('run the schedule for a past range, one run after the other')
    .requiredOption('--from <time>', 'ISO 8601')
    .requiredOption('--to <time>', 'ISO 8601')
    .addOption(kind())
    .action(run((id: string, o: Record<string, unknown>) => scheduleCommand('backfill', id, triggerFlags(o))));

  ct.command('webhook')
    .description('serve POST /v1/drift-alerts (HMAC-signed; needs CT_WEBHOOK_SECRET)')
    .action(run(webhookCommand));
  ct.command('codec-server')
    .description("the Web UI's remote codec: POST /encode and /decode with this configuration's keys")
    .option('--host <host>', 'address to bind (default codec.server.host, CT_CODEC_HOST: 127.0.0.1)')
    .option('--port <port>', 'port to bind (default codec.server.port, CT_CODEC_PORT: 8234)')
    .option('--ui-origin <url>', 'the only origin CORS admits (default codec.uiOrigin, else the local Web UI)')
    .action(run((o: CodecServerFlags) => codecServerCommand(o, print)));
  ct.command('drift')
    .description('compare two Parquet/CSV files offline; exit 0 no drift, 3 dataset drift, 2 bad input')
    .requiredOption('--reference <file>', 'reference data: a local file or s3://bucket/key')
    .requiredOption('--current <file>', 'current data: a local file or s3://bucket/key')
    .option('--model <file>', 'a model config: compare its features with its drift settings (default: every column)')
    .addOption(jsonOption())
    .action(run((o: { reference: string; current: string; model?: string; json?: boolean }) => driftCommand(o, print)));
  ct.command('schemas')
    .description('write the JSON Schemas of all inputs and outputs (schemas/, and beside each trainer)')
    .action(
      run(async () => {
        for (const f of writeSchemas()) print(f);
      }),
    );
  return ct;
}

/** Runs `ct` on `argv` (no program name); the exit code, or an error for exitCodeOf. */
export async function main(argv: string[], ct = program()): Promise<number> {
  // Commander's own errors (unknown command or option, missing argument) are usage errors: exit 2.
  const exitOverride = (err: CommanderError) => {
    throw err;
  };
  const overrideAll = (c: Command) => {
    c.exitOverride(exitOverride);
    c.commands.forEach(overrideAll);
  };
  overrideAll(ct);
  if (argv.length === 0) {
    ct.outputHelp();
    return 2;
  }
  try {
    await ct.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError)
      return ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code) ? 0 : 2;
    throw err;
  }
  return exitCode;
}

// Runs when this file or bin/ct.js is the process's entry point, not when a test imports it.
const entry = process.argv[1] === undefined ? '' : realpathSync(process.argv[1]);
if ([fileURLToPath(import.meta.url), fileURLToPath(new URL('../bin/ct.js', import.meta.url))].includes(entry)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`ct: ${(err as Error).message}\n`);
      process.exit(exitCodeOf(err));
    },
  );
}
