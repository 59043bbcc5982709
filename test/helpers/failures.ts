// The messages of an error and all its causes (a workflow failure wraps the activity failure that wraps the reason).
export function causeChain(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e)
    parts.push(String(e.message));
  return parts.join(' ← ');
}
