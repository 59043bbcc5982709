// Which process listens on a local TCP port, read from /proc (Linux): the listening socket's inode in
// /proc/net/tcp{,6}, then the process with a file descriptor on that inode. Null where /proc cannot tell (another
// OS, or a process of another user whose descriptors we may not read).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface PortHolder {
  pid: number;
  /** Its command line, shortened. */
  command: string;
  /** The process that started it, unless that is gone (then the holder belongs to init or a subreaper). */
  parent: { pid: number; command: string } | null;
}

const LISTEN = '0A';

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // "sl local_address rem_address st … uid timeout inode": local_address is <hex ip>:<hex port>.
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== LISTEN) continue;
      if (Number.parseInt(fields[1]!.split(':').pop()!, 16) === port && fields[9] !== '0') inodes.add(fields[9]!);
    }
  }
  return inodes;
}

function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function commandLine(pid: number, max = 120): string {
  const argv = readOr(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8'), '')
    .split('\0')
    .filter(Boolean);
  const line = argv.join(' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function parentPid(pid: number): number | null {
  const stat = readOr(() => readFileSync(`/proc/${pid}/stat`, 'utf8'), '');
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ")".
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isInteger(ppid) && ppid > 1 ? ppid : null;
}

export function portHolder(port: number): PortHolder | null {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return null;
  for (const entry of readOr(() => readdirSync('/proc'), [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    for (const fd of readOr(() => readdirSync(`/proc/${entry}/fd`), [] as string[])) {
      const inode = /^socket:\[(\d+)\]$/.exec(readOr(() => readlinkSync(`/proc/${entry}/fd/${fd}`), ''))?.[1];
      if (!inode || !inodes.has(inode)) continue;
      const pid = Number(entry);
      const ppid = parentPid(pid);
      const parent = ppid === null ? null : { pid: ppid, command: commandLine(ppid) };
      return { pid, command: commandLine(pid), parent };
    }
  }
  return null;
}
