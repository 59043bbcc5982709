// Pure decisions of the `ray` training backend: whether a cluster's alive nodes can place an attempt's workers at
// all (a job Ray cannot place waits forever: refuse it up front instead), reading a job's growing log by line, and
// the job's command line.

/** Why `workers` workers of `perWorker` resources cannot be placed on nodes offering `nodes`; null when they can. */
export function placementProblem(
  nodes: Record<string, number>[],
  workers: number,
  perWorker: Record<string, number>,
): string | null {
  const wanted = Object.entries(perWorker).filter(([, amount]) => amount > 0);
  // A worker needs all its resources on one node: count whole workers per node.
  const fits = (node: Record<string, number>) =>
    Math.min(...wanted.map(([name, amount]) => Math.floor((node[name] ?? 0) / amount)), Number.MAX_SAFE_INTEGER);
  const places = nodes.reduce((sum, node) => sum + fits(node), 0);
  if (places >= workers) return null;
  const offered = nodes.length
    ? nodes.map((n) => JSON.stringify(Object.fromEntries(wanted.map(([name]) => [name, n[name] ?? 0])))).join(', ')
    : 'no alive node';
  return `cannot place ${workers} workers of ${JSON.stringify(perWorker)}: its alive nodes offer ${offered} (room for ${places})`;
}

/**
 * A job's log followed through connections that each stream it from its start (Ray's log tail): every line is
 * handed out once, in order, and a line still being written waits for its end.
 */
export class JobLogLines {
  /** Characters of the log taken so far. */
  private taken = 0;
  /** Of the current stream, characters still to skip (taken from an earlier one). */
  private skip = 0;
  private partial = '';

  /** A new stream of the log from its start begins. */
  restart(): void {
    this.skip = this.taken;
  }

  /** The next text of the current stream; returns the lines it completes. */
  add(text: string): string[] {
    const skipped = Math.min(this.skip, text.length);
    this.skip -= skipped;
    const fresh = text.slice(skipped);
    this.taken += fresh.length;
    const all = this.partial + fresh;
    const end = all.lastIndexOf('\n');
    if (end < 0) {
      this.partial = all;
      return [];
    }
    this.partial = all.slice(end + 1);
    return all.slice(0, end).split('\n');
  }

  /** The whole log once the job ended: the lines not handed out yet, a last one without its newline included. */
  finish(whole: string): string[] {
    this.restart();
    return this.add(whole.endsWith('\n') ? whole : `${whole}\n`);
  }
}

/** The shell command a Ray job runs for one trainer run: ct_trainer.ray_job, from the worker's folder, with the SDK. */
export function rayJobEntrypoint(o: {
  cwd: string;
  sdkRoot: string;
  python: string;
  workers: number;
  resourcesPerWorker: Record<string, number>;
  placement: string;
  stopFile: string;
  trainerArgv: string[];
}): string {
  const driver = [o.python, '-m', 'ct_trainer.ray_job', '--workers', String(o.workers)];
  const options = ['--resources', JSON.stringify(o.resourcesPerWorker), '--placement', o.placement];
  const argv = [...driver, ...options, '--stop-file', o.stopFile, '--', ...o.trainerArgv];
  return `${shellCommand(['cd', o.cwd])} && PYTHONPATH=${shellCommand([o.sdkRoot])} exec ${shellCommand(argv)}`;
}

/** `args` as one POSIX shell command line. */
export function shellCommand(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
