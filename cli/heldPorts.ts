// Why `ct dev` cannot start: which process holds its ports, and how to free them or choose others.
import { portHolder, type PortHolder } from '../stack/portHolder';
import { tcpOpen } from '../stack/processes';
import { cliConfig, devMetrics, localPorts } from './localStack';
import { UsageError } from './usage';

const PORTS = [
  { what: 'Temporal', port: () => localPorts.temporal },
  { what: 'Web UI', port: () => localPorts.ui },
  { what: 'MinIO', port: () => localPorts.s3 },
  { what: 'control worker metrics', port: () => devMetrics().control.port! },
  { what: 'GPU worker metrics', port: () => devMetrics().gpu.port! },
  { what: 'codec server', port: () => cliConfig().config.codec.server.port },
];
const CHOOSE_OTHERS =
  'choose other ports with CT_DEV_TEMPORAL_PORT, CT_DEV_UI_PORT, CT_DEV_S3_PORT, CT_METRICS_PORT (GPU worker: +1) and CT_CODEC_PORT';

const isCtDev = (command: string) => /(?:\bct(?:\.js)?|cli\/main\.ts)\s+dev(?:\s|$)/.test(command);
const looksOurs = (command: string) =>
  /temporal server start-dev|minio server|workers\/(?:control|gpu)\.ts/.test(command);

/** One line about one held port, and the pid that frees it when killed. */
function explain(what: string, port: number, holder: PortHolder | null): { line: string; kill?: number } {
  if (!holder) {
    const tools = `\`ss -ltnp 'sport = :${port}'\` or \`lsof -i :${port}\``;
    return { line: `port ${port} (${what}) is in use by a process this user cannot see (as root, ${tools} names it)` };
  }
  const held = `port ${port} (${what}) is held by pid ${holder.pid} (${holder.command})`;
  if (holder.parent && isCtDev(holder.parent.command)) {
    return { line: `${held}, a child of the \`ct dev\` running as pid ${holder.parent.pid}`, kill: holder.parent.pid };
  }
  if (isCtDev(holder.command)) return { line: `${held}: a \`ct dev\` already runs`, kill: holder.pid };
  const leftOver = looksOurs(holder.command) ? ', probably left over from an earlier `ct dev`' : '';
  return { line: `${held}${leftOver}`, kill: holder.pid };
}

/** Throws a UsageError (exit code 2) naming every held port, its holder and how to free it; else returns. */
export async function refuseHeldPorts(): Promise<void> {
  const held = [];
  for (const { what, port } of PORTS) if (await tcpOpen(port())) held.push(explain(what, port(), portHolder(port())));
  if (held.length === 0) return;
  const pids = [...new Set(held.flatMap((h) => (h.kill === undefined ? [] : [h.kill])))];
  const them = held.length > 1 ? 'them' : 'it';
  const free = pids.length ? `Free ${them} with \`kill ${pids.join(' ')}\`` : `Free ${them}`;
  throw new UsageError(`dev: ${held.map((h) => h.line).join(';\n  ')}.\n${free}, or ${CHOOSE_OTHERS}.`);
}
