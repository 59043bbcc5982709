// Shared pieces of the property tests on boundary parsers (test/unit/fuzz*.test.ts): hostile values, one-field
// mutations of a valid input, and the property every parser must hold.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIssuePath, InvalidInputError } from '../../core/parse';

/** Runs per property where a case is cheap; the whole fuzz suite stays well under a minute on 2 cores. */
export const RUNS = 1000;
/** fast-check settings for every property: seeded by fast-check (printed on failure), a hang fails the test. */
export const fuzzParams = (numRuns = RUNS): fc.Parameters<unknown> => ({
  numRuns,
  interruptAfterTimeLimit: 20_000,
  markInterruptAsFailure: true,
});

/** Strings that break naive parsers: traversal, encodings, look-alikes, controls, very long, prototype names. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  '..',
  '.',
  '../',
  '../../etc/passwd',
  '/etc/passwd',
  'C:\\Windows',
  'a\\..\\b',
  'a//b',
  'a/./b',
  '%2e%2e%2f',
  '%2E%2E/x',
  '%252e%252e%252f',
  '..%2f',
  '%00',
  '\u0000',
  '\u001b[31m',
  '\u007f',
  '\u2024\u2024', // one-dot leader
  '\uff0e\uff0e', // fullwidth full stop
  'a\u2215b', // division slash
  'a\uff0fb', // fullwidth solidus
  'a\u29f8b', // big solidus
  '\u202e', // right-to-left override
  '\ufeff',
  '\ud800', // lone surrogate
  '__proto__',
  'constructor',
  'toString',
  'x'.repeat(5000),
  '-1',
  '1e309',
  'NaN',
  'true',
  'null',
];

/** Any string, biased towards the hostile ones and towards strings built from their pieces. */
export const hostileString = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc
      .array(fc.constantFrom(...HOSTILE_STRINGS, 'a', 'b', '/', '.', '%', '-'), { maxLength: 8 })
      .map((a) => a.join('')),
  );

/** Junk of every JSON type (and some that JSON lacks), as any client could send through a Temporal payload. */
export const junk = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.anything({ maxDepth: 2 }),
    fc.json({ maxDepth: 2 }).map((t) => JSON.parse(t) as unknown),
    hostileString(),
    fc.constantFrom(null, undefined, NaN, Infinity, -Infinity, -0, 1e308, -1, 0, 2 ** 53 + 1, [], {}, true, false),
  );

type Path = (string | number)[];

/** Every path to a value inside `value` (objects and arrays), the root excluded. */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const p = [...prefix, Array.isArray(value) ? Number(k) : k];
    return [p, ...pathsOf(v, p)];
  });
}

const getAt = (value: unknown, path: Path): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], value);

/** A copy of `value` with the value at `path` replaced (`undefined`: deleted). */
export function setAt(value: unknown, path: Path, replacement: unknown): unknown {
  const copy = structuredClone(value);
  const parent = getAt(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path.at(-1)!;
  if (replacement === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else parent[key] = replacement;
  return copy;
}

export interface Mutation {
  value: unknown;
  path: Path;
  /** The replacement has another JSON type than the original (a type error the parser must name). */
  retyped: boolean;
}

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** A valid input with one field replaced by junk, deleted, or given an extra unknown key beside it. */
export function mutationOf(valid: unknown): fc.Arbitrary<Mutation> {
  const paths = pathsOf(valid);
  return fc.tuple(fc.constantFrom(...paths), junk(), fc.nat(2)).map(([path, replacement, how]) => {
    if (how === 0) return { value: setAt(valid, path, undefined), path, retyped: false };
    if (how === 1 && typeof getAt(valid, path) === 'object' && !Array.isArray(getAt(valid, path))) {
      return { value: setAt(valid, [...path, 'unexpectedKey'], replacement ?? 1), path, retyped: false };
    }
    const original = getAt(valid, path);
    const retyped = replacement !== undefined && replacement !== null && jsonType(replacement) !== jsonType(original);
    return { value: setAt(valid, path, replacement), path, retyped };
  });
}

/**
 * The property of every boundary parser: it returns a value that parses again to itself, or throws an
 * InvalidInputError whose every problem reads "<field path>: <reason>". With `named`, one problem's path must be
 * `named` itself, a field inside it, or one of its parents (zod reports unknown keys and refinements there).
 */
export function assertParsesOrNames<T>(parse: (v: unknown) => T, value: unknown, named?: Path): T | undefined {
  let parsed: T;
  try {
    parsed = parse(value);
  } catch (err) {
    if (!(err instanceof InvalidInputError))
      throw new Error(`not an InvalidInputError: ${String(err)}`, { cause: err });
    assert.ok(err.problems.length > 0, 'an InvalidInputError names at least one problem');
    for (const p of err.problems) assert.match(p, /^\S.*?: \S/s, `problem "${p.slice(0, 200)}" names a field path`);
    if (named) {
      const target = formatIssuePath(named);
      const related = err.problems.some((p) => {
        const path = p.slice(0, p.indexOf(': '));
        return path === '(root)' || target.startsWith(path) || path.startsWith(target);
      });
      assert.ok(related, `a problem names ${target}: ${err.message.slice(0, 500)}`);
    }
    return undefined;
  }
  const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;
  assert.deepEqual(asJson(parse(asJson(parsed))), asJson(parsed), 'parsing again changes nothing');
  return parsed;
}
