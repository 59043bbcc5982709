// What an object key given by a user may look like: relative to the bucket, no `.`/`..` segments (S3 servers
// refuse or normalise them, and they read as path traversal), no empty segments or control characters — neither
// as written nor once percent-decoded or Unicode-normalised (%2e%2e, U+FF0E, U+2215 are ".." and "/" to someone).
import { z } from 'zod';

const MAX_KEY_BYTES = 1024; // the S3 limit
// C0 and C1 controls, DEL, the backslash, and the invisible bidirectional overrides that make a key read as another.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\\\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// Look-alikes of "/" and "\" that NFKC keeps (it maps the fullwidth ones itself): a server or a person may read them
// as separators, so the normalised form treats them as such.
const SLASH_LOOKALIKES = /[\u2044\u2215\u2571\u29f8\ufe68\uff3c\u29f9\u2572]/g;
const PERCENT_RUN = /(?:%[0-9a-f]{2})+/gi;
const utf8 = new TextDecoder();

/** `text` with every run of %XX escapes decoded as UTF-8 (lenient: a lone "%" stays as it is). */
function percentDecoded(text: string): string {
  return text.replace(PERCENT_RUN, (run) =>
    utf8.decode(
      new Uint8Array(
        run
          .slice(1)
          .split('%')
          .map((h) => parseInt(h, 16)),
      ),
    ),
  );
}

/**
 * What a server, a proxy or a person might read `key` as: percent-decoded up to three times (double encoding),
 * each form Unicode-normalised (NFKC: U+FF0E is ".", U+2024 is ".") with look-alike slashes as "/". `key` itself
 * is not among them.
 */
export function normalisedForms(key: string): string[] {
  const decoded = [key];
  for (let i = 0; i < 3; i++) decoded.push(percentDecoded(decoded.at(-1)!));
  const forms = new Set(decoded.flatMap((d) => [d, d.normalize('NFKC').replace(SLASH_LOOKALIKES, '/')]));
  forms.delete(key);
  return [...forms];
}

function literalProblem(key: string, prefix: boolean): string | null {
  if (key.length === 0) return 'is empty';
  if (key.startsWith('s3://') || key.startsWith('/'))
    return 'is not relative to the bucket: give it without s3:// or a leading /';
  if (FORBIDDEN.test(key)) return 'contains a control character, a bidirectional override or a backslash';
  if (LONE_SURROGATE.test(key)) return 'is not valid Unicode (a lone surrogate)';
  const segments = (prefix && key.endsWith('/') ? key.slice(0, -1) : key).split('/');
  if (segments.some((s) => s === '.' || s === '..')) return 'contains a "." or ".." segment';
  if (segments.some((s) => s === '')) return 'contains an empty segment ("//" or a trailing "/")';
  return null;
}

/** Why `key` is not a usable object key (or key prefix, which may end in "/"), or null when it is. */
export function objectKeyProblem(key: string, opts: { prefix?: boolean } = {}): string | null {
  const prefix = opts.prefix === true;
  const problem = literalProblem(key, prefix);
  if (problem) return problem;
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) return `is longer than ${MAX_KEY_BYTES} bytes`;
  for (const form of normalisedForms(key)) {
    const hidden = literalProblem(form, prefix);
    if (hidden) return `reads as "${form.slice(0, 60)}" once percent-decoded or Unicode-normalised, and that ${hidden}`;
  }
  return null;
}

const keySchema = (prefix: boolean) =>
  z.string().superRefine((key, ctx) => {
    const problem = objectKeyProblem(key, { prefix });
    if (problem) ctx.addIssue({ code: 'custom', message: `object key${prefix ? ' prefix' : ''} "${key}" ${problem}` });
  });

export const ObjectKey = keySchema(false);
export const ObjectKeyPrefix = keySchema(true);
