// `ct status … --watch` and `ct retrain --wait`: poll a run's (or a model's supervisor's) status and show it.
// In a terminal the view is redrawn in place (log-update); piped, a line is printed only when it changes;
// with --json, one JSON object per line per change (NDJSON).
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { createLogUpdate } from 'log-update';
import { runStatus, supervisorStatus } from '../client';
import type { SupervisorStatus } from '../core/continuousTraining';
import { workflowIds } from '../core/keys';
import { ModelId } from '../core/modelConfig';
import type { RunStatus } from '../core/runStatus';
import { formatRunSummary } from './runSummary';
import { runBlock, runLine, supervisorBlock, supervisorLine } from './statusView';
import { UsageError } from './usage';

/** One look at what is watched: the block a terminal shows, the one-line form, the JSON form, and whether it ended. */
export interface Frame {
  block: string[];
  line: string;
  json: unknown;
  closed: boolean;
}

export type Target = { kind: 'run'; workflowId: string } | { kind: 'model'; modelId: string };

const exists = (client: Client, workflowId: string) =>
  client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      () => true,
      (err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      },
    );

/**
 * What `ct status <arg>` names: `ct/<modelId>` is that model's supervisor; any other argument is a workflow id,
 * unless no workflow of that id exists and it is a valid model id: then it is the model (its supervisor).
 */
export async function resolveTarget(client: Client, arg: string): Promise<Target> {
  const supervised = arg.startsWith('ct/') ? arg.slice(3) : null;
  if (supervised !== null && ModelId.safeParse(supervised).success) return { kind: 'model', modelId: supervised };
  if (await exists(client, arg)) return { kind: 'run', workflowId: arg };
  if (!ModelId.safeParse(arg).success)
    throw new UsageError(`no workflow "${arg}" (a run id: retrain/<modelId>/<stamp>)`);
  if (await exists(client, workflowIds.supervisor(arg))) return { kind: 'model', modelId: arg };
  throw new UsageError(
    `no workflow "${arg}" and no supervisor ${workflowIds.supervisor(arg)} is running: a model's supervisor starts with its first drift report or retrain request (ct supervisor retrain <modelId> …)`,
  );
}

/** A run's frame. A closed run's block is its summary; one closed without a final status (terminated) says so. */
export async function runFrame(client: Client, workflowId: string, now = Date.now()): Promise<Frame> {
  const d = await client.workflow.getHandle(workflowId).describe();
  const closedAs = d.status.name === 'RUNNING' ? null : d.status.name.toLowerCase();
  const s = await runStatus(client, workflowId).catch((err: unknown) => {
    if (closedAs) return null;
    throw err;
  });
  if (!s)
    return { block: [`${workflowId}: ${closedAs}`], line: closedAs!, json: { workflowId, closedAs }, closed: true };
  if (closedAs === null || s.outcome === 'running') {
    const closed = closedAs !== null;
    const line = closed ? `${runLine(s, now)} (workflow ${closedAs})` : runLine(s, now);
    return { block: runBlock(s, now), line, json: s, closed };
  }
  const block = [`${workflowId}: stage ${s.stage}`, ...formatRunSummary(s).split('\n')];
  return { block, line: runLine(s, now), json: s, closed: true };
}

/** A model's frame: the supervisor's state and, while one is in flight, its run (never closes). */
export async function modelFrame(client: Client, modelId: string, now = Date.now()): Promise<Frame> {
  const supervisor: SupervisorStatus = await supervisorStatus(client, modelId);
  const inFlight = supervisor.incident?.run?.finishedAt === null ? supervisor.incident.run : null;
  const run: RunStatus | null = inFlight ? await runStatus(client, inFlight.workflowId).catch(() => null) : null;
  return {
    block: [...supervisorBlock(supervisor), ...(run ? ['', ...runBlock(run, now)] : [])],
    line: supervisorLine(supervisor, run, now),
    json: { supervisor, run },
    closed: false,
  };
}

export interface WatchOptions {
  intervalMs: number;
  json: boolean;
  /** Redraw in place (stdout is a terminal); else print a line per change. */
  tty: boolean;
  out: NodeJS.WriteStream;
}

/**
 * Polls `next` every `intervalMs` until its frame is closed (returned, the block cleared from a terminal so the
 * caller prints the final view) or Ctrl-C (null, the last view left on screen).
 */
export async function watch(next: () => Promise<Frame>, o: WatchOptions): Promise<Frame | null> {
  const redraw = o.tty && !o.json ? createLogUpdate(o.out) : null;
  let last: string | undefined;
  const emit = (text: string) => {
    if (text !== last) o.out.write(`${text}\n`);
    last = text;
  };
  let stopped = false;
  let wake: (() => void) | undefined;
  const onInterrupt = () => {
    stopped = true;
    wake?.();
  };
  process.on('SIGINT', onInterrupt);
  try {
    for (;;) {
      const f = await next();
      if (o.json) emit(JSON.stringify(f.json));
      else if (redraw) redraw(f.block.join('\n'));
      else emit(f.line);
      if (f.closed) {
        redraw?.clear();
        return f;
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) break;
    }
    redraw?.done();
    return null;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

/** `--interval <seconds>`: a positive number (fractions allowed). */
export function intervalMs(text: string | undefined): number {
  if (text === undefined) return 1000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--interval must be a positive number of seconds, not "${text}"`);
  return seconds * 1000;
}
