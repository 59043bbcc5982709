// What an object key given by a user may look like: relative to the bucket, no `.`/`..` segments (S3 servers
// refuse or normalise them, and they read as path traversal), no empty segments or control characters.
import { z } from 'zod';

const MAX_KEY_BYTES = 1024; // the S3 limit

/** Why `key` is not a usable object key (or key prefix, which may end in "/"), or null when it is. */
export function objectKeyProblem(key: string, opts: { prefix?: boolean } = {}): string | null {
  if (key.length === 0) return 'is empty';
  if (key.startsWith('s3://') || key.startsWith('/'))
    return 'is not relative to the bucket: give it without s3:// or a leading /';
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) return `is longer than ${MAX_KEY_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(key)) return 'contains a control character or a backslash';
  const segments = (opts.prefix && key.endsWith('/') ? key.slice(0, -1) : key).split('/');
  if (segments.some((s) => s === '.' || s === '..')) return 'contains a "." or ".." segment';
  if (segments.some((s) => s === '')) return 'contains an empty segment ("//" or a trailing "/")';
  return null;
}

const keySchema = (prefix: boolean) =>
  z.string().superRefine((key, ctx) => {
    const problem = objectKeyProblem(key, { prefix });
    if (problem) ctx.addIssue({ code: 'custom', message: `object key${prefix ? ' prefix' : ''} "${key}" ${problem}` });
  });

export const ObjectKey = keySchema(false);
export const ObjectKeyPrefix = keySchema(true);
