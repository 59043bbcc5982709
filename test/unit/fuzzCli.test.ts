// `ct` on generated command lines, in process: every command (but those that start servers or write files) with
// hostile arguments, its own flags with hostile values, unknown flags. The configuration is invalid on purpose, so
// nothing reaches a server: what is tested is everything the CLI checks before it connects. Every command line
// ends as help (exit 0) or as bad input (exit 2) with a message; never another exception, never exit 1.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import fc from 'fast-check';
import { main, program } from '../../cli/main';
import { exitCodeOf } from '../../cli/usage';
import { fuzzParams, hostileString } from '../helpers/fuzz';

/** Commands that start servers (dev, demo, webhook) or write files (schemas) stay out. */
const EXCLUDED = new Set(['dev', 'demo', 'webhook', 'schemas']);

interface Leaf {
  names: string[];
  args: number;
  flags: { flag: string; takesValue: boolean }[];
}

function leaves(cmd: Command, names: string[] = []): Leaf[] {
  return cmd.commands.flatMap((c) => {
    if (EXCLUDED.has(c.name())) return [];
    const here = [...names, c.name()];
    if (c.commands.length > 0) return leaves(c, here);
    const flags = c.options.map((o) => ({ flag: o.long ?? o.short!, takesValue: o.required || o.optional }));
    return [{ names: here, args: c.registeredArguments.length, flags }];
  });
}

/** Captures commander's own output (usage errors, help) of `ct` and every subcommand. */
function quiet(ct: Command, out: string[]): Command {
  ct.configureOutput({ writeOut: (s) => void out.push(s), writeErr: (s) => void out.push(s) });
  ct.commands.forEach((c) => quiet(c, out));
  return ct;
}

const COMMANDS = leaves(program());
const value = () => fc.oneof(hostileString(), fc.constantFrom('1', '0', '30m', 'drift-check', 'skip', 'a.json'));

const commandLine = fc
  .constantFrom(...COMMANDS)
  .chain((leaf) =>
    fc
      .tuple(
        fc.array(value(), { minLength: 0, maxLength: leaf.args + 1 }),
        fc.array(
          fc.oneof(
            fc.constantFrom(...(leaf.flags.length ? leaf.flags : [{ flag: '--json', takesValue: false }])),
            fc.record({ flag: fc.constantFrom('--nope', '-x', '--', '---', '--data=', '-'), takesValue: fc.boolean() }),
          ),
          { maxLength: 5 },
        ),
        fc.array(value(), { minLength: 5, maxLength: 5 }),
      )
      .map(([args, flags, values]) => [
        ...leaf.names,
        ...args,
        ...flags.flatMap((f, i) => (f.takesValue ? [f.flag, values[i]!] : [f.flag])),
      ]),
  );

describe('ct on generated command lines', () => {
  // Relative paths land in a scratch folder; an invalid bucket name stops every command before it connects.
  process.chdir(mkdtempSync(path.join(os.tmpdir(), 'ct-fuzz-cli-')));
  for (const name of Object.keys(process.env)) if (name.startsWith('CT_')) delete process.env[name];
  process.env.CT_S3_BUCKET = 'Not_A_Bucket';

  it('covers every command but those that start servers or write files', () => {
    assert.ok(COMMANDS.length >= 25, `${COMMANDS.length} commands`);
    assert.ok(COMMANDS.some((c) => c.names.join(' ') === 'supervisor retrain'));
  });

  it('ends as help or bad input with a message, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(commandLine, async (argv) => {
        const out: string[] = [];
        let code: number;
        try {
          code = await main(argv, quiet(program(), out));
        } catch (err) {
          assert.equal(exitCodeOf(err), 2, `${JSON.stringify(argv)}: ${String(err)}`);
          assert.ok((err as Error).message.trim().length > 0, 'the error says what is wrong');
          return;
        }
        if (code === 0) assert.ok(out.join('').includes('Usage: ct'), `${JSON.stringify(argv)} exits 0 with help`);
        else {
          assert.equal(code, 2, `${JSON.stringify(argv)} exits 2, not ${code}`);
          assert.match(out.join(''), /error: /, 'commander names the usage error');
        }
      }),
      fuzzParams(),
    );
  });

  it('ct token --rollback (no server needed) issues a token or names the bad flag', async () => {
    process.env.CT_S3_BUCKET = 'ok-bucket';
    process.env.CT_APPROVAL_SECRET = 'a-secret-of-sixteen+';
    const flags = fc.record({
      as: value(),
      rollback: fc.oneof(value(), fc.constant('flight-delay')),
      to: fc.oneof(value(), fc.constantFrom('3', '1e3', '0x2', '2.5')),
      ttl: fc.oneof(value(), fc.constantFrom('4h', '1.5d', '10x', '-1h')),
    });
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (s: string) => printed.push(s) > 0;
    try {
      await fc.assert(
        fc.asyncProperty(flags, async (f) => {
          const argv = ['token', '--as', f.as, '--rollback', f.rollback, '--to', f.to, '--ttl', f.ttl];
          printed.length = 0;
          try {
            assert.equal(await main(argv, quiet(program(), [])), 0);
            assert.match(printed.join(''), /^v2\.[0-9a-f]+\.[0-9a-f]+\n$/, 'a token is printed');
          } catch (err) {
            assert.equal(exitCodeOf(err), 2, `${JSON.stringify(argv)}: ${String(err)}`);
          }
        }),
        fuzzParams(1000),
      );
      // Found by this test: an empty --as was a ZodError and a bad --ttl a plain Error (both exit 1).
      for (const [as, ttl, reason] of [
        ['', '1d', /invalid token claims:\n {2}- by: /],
        ['bob', 'soon', /invalid duration:\n {2}- \(root\): "soon" is not a duration/],
      ] as const) {
        const argv = ['token', '--as', as, '--rollback', 'flight-delay', '--to', '2', '--ttl', ttl];
        await assert.rejects(
          main(argv, quiet(program(), [])),
          (err: Error) => exitCodeOf(err) === 2 && reason.test(err.message),
        );
      }
    } finally {
      process.stdout.write = write;
    }
  });
});
