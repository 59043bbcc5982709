// Pure decisions of the `ray` training backend: whether a cluster's alive nodes can place an attempt's workers at
// all (a job Ray cannot place waits forever: refuse it up front instead), and reading a job's growing log by line.

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

/** The complete lines of `log` after `offset` (a line still being written waits), and the offset after them. */
export function newLines(log: string, offset: number): { lines: string[]; offset: number } {
  const end = log.lastIndexOf('\n') + 1;
  if (end <= offset) return { lines: [], offset };
  return { lines: log.slice(offset, end - 1).split('\n'), offset: end };
}

/** `args` as one POSIX shell command line. */
export function shellCommand(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
