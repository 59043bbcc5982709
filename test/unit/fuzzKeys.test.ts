// Object keys and ids from users cannot escape their prefix: not as written, not once percent-decoded (twice
// included), not once Unicode-normalised (look-alike dots and slashes); and files a trainer names stay in its folder.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { isInside } from '../../adapters/files';
import { trainerEventHandler, type TrainerEventsContext } from '../../activities/training/trainerEvents';
import type { AttemptState } from '../../activities/training/attemptState';
import { keys, workflowIds } from '../../core/keys';
import { ModelId } from '../../core/modelConfig';
import { normalisedForms, ObjectKey, ObjectKeyPrefix, objectKeyProblem } from '../../core/objectKey';
import { fuzzParams, HOSTILE_STRINGS, hostileString } from '../helpers/fuzz';

/** Keys built from pieces that look like separators and dots, so that many are accepted and some nearly escape. */
const keyLike = (): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          ...HOSTILE_STRINGS,
          'data',
          'x.parquet',
          '.',
          '..',
          '%2e',
          '%2f',
          '%25',
          '%',
          '\u00e9',
          'e\u0301',
        ),
        fc.constantFrom('\u2024', '\uff0e', '\u2215', '\uff0f', '\u29f8', '\u2044', '\uff3c', '\ufe68', '\u2025'),
        fc.string({ unit: 'grapheme', maxLength: 6 }),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .chain((parts) => fc.constantFrom('/', '', '%2f', '\u2215').map((sep) => parts.join(sep)));

/** Every way a key may be read: as written and each normalised form, with backslashes as separators too. */
const readings = (key: string): string[] => [key, ...normalisedForms(key)].flatMap((f) => [f, f.replaceAll('\\', '/')]);

const PREFIXES = ['datasets/', 'registry/flight-delay/'];
const ROOT = path.resolve('/srv/ct/work');

describe('object keys from users', () => {
  it('refuse traversal in every disguise, naming the reason', () => {
    const refused: [string, RegExp][] = [
      ['../etc/passwd', /contains a "\." or "\.\." segment$/],
      ['a/./b', /contains a "\." or "\.\." segment$/],
      ['/etc/passwd', /not relative to the bucket/],
      ['s3://other/key', /not relative to the bucket/],
      ['a\\..\\b', /backslash/],
      ['a//b', /empty segment/],
      ['a/', /empty segment/],
      ['a/b\u0000', /control character/],
      ['a/\u202eb', /bidirectional override/],
      ['a/\u0085b', /control character/],
      ['a/\ud800', /lone surrogate/],
      ['x'.repeat(1025), /longer than 1024 bytes/],
      [
        '%2e%2e/x',
        /^reads as "\.\.\/x" once percent-decoded or Unicode-normalised, and that contains a "\." or "\.\." segment$/,
      ],
      ['%2E%2E%2Fx', /once percent-decoded .*, and that contains a "\." or "\.\." segment/],
      ['a/%252e%252e/b', /once percent-decoded .*, and that contains a "\." or "\.\." segment/],
      ['a/%25252e%25252e/b', /once percent-decoded .*, and that contains a "\." or "\.\." segment/],
      ['%2fetc/passwd', /reads as "\/etc\/passwd" once .*, and that is not relative to the bucket/],
      ['a%2f%2fb', /reads as "a\/\/b" once .*, and that contains an empty segment/],
      ['a%00b', /once .*, and that contains a control character/],
      ['a%5c..%5cb', /once .*, and that contains .*a backslash/],
      ['%ef%bc%8e%ef%bc%8e/x', /once .*, and that contains a "\." or "\.\." segment/],
      ['a/\u2024\u2024/b', /Unicode-normalised, and that contains a "\." or "\.\." segment/],
      ['a/\uff0e\uff0e/b', /Unicode-normalised, and that contains a "\." or "\.\." segment/],
      ['\u2025/x', /Unicode-normalised, and that contains a "\." or "\.\." segment/], // two-dot leader
      ['..\u2215etc', /Unicode-normalised, and that contains a "\." or "\.\." segment/],
      ['..\uff0fetc', /Unicode-normalised, and that contains a "\." or "\.\." segment/],
      ['..\u29f8etc', /Unicode-normalised, and that contains a "\." or "\.\." segment/],
      ['a\uff3c..', /Unicode-normalised, and that contains .*a backslash/],
      ['\uff0fetc', /Unicode-normalised, and that is not relative to the bucket/],
    ];
    for (const [key, reason] of refused) {
      const problem = objectKeyProblem(key);
      assert.ok(problem, `"${key}" is refused`);
      assert.match(problem, reason, `"${key}"`);
      const parsed = ObjectKey.safeParse(key);
      assert.equal(parsed.success, false);
      assert.match(parsed.error.issues[0]!.message, /^object key ".*" /s);
    }
    for (const key of ['data/jan.parquet', 'data/100%.csv', 'a%20b/c', 'caf\u00e9/x', 'a..b/.c', 'data/\u2024x']) {
      assert.equal(objectKeyProblem(key), null, `"${key}" is a plain key`);
    }
    assert.equal(objectKeyProblem('data/', { prefix: true }), null);
    assert.match(objectKeyProblem('data/%2e%2e/', { prefix: true })!, /once percent-decoded .*, and that contains a/);
  });

  it('an accepted key, joined to its prefix, stays under it however it is read (S3 keys and local paths)', () => {
    fc.assert(
      fc.property(fc.oneof(keyLike(), hostileString()), fc.boolean(), (key, asPrefix) => {
        const schema = asPrefix ? ObjectKeyPrefix : ObjectKey;
        if (!schema.safeParse(key).success) return;
        for (const form of readings(key)) {
          for (const prefix of PREFIXES) {
            const joined = path.posix.normalize(prefix + form);
            assert.ok(joined.startsWith(prefix) && joined.length > prefix.length, `${prefix} + "${key}" → ${joined}`);
          }
          assert.ok(isInside(ROOT, path.join(ROOT, form)), `"${key}" under a folder stays in it`);
        }
      }),
      fuzzParams(5000),
    );
  });
});

describe('ids from users', () => {
  it('an accepted model id names keys and workflow ids of its own model only', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString(), fc.stringMatching(/^[a-z0-9-]{1,70}$/)), (id) => {
        if (!ModelId.safeParse(id).success) return;
        const own = [
          keys.registeredConfig(id),
          keys.versionCard(id, 1),
          keys.alias(id, 'champion'),
          keys.runRegistration(id, 'run-1'),
          keys.spentToken(id, 'n'.repeat(16)),
          keys.validationReport(id, 'run-1'),
          keys.driftReport(id, 'stamp'),
        ];
        for (const key of own) {
          assert.equal(objectKeyProblem(key), null, key);
          assert.equal(key.split('/')[1], id, `${key} is under the model's own prefix`);
        }
        assert.equal(workflowIds.supervisor(id), `ct/${id}`);
        assert.ok(isInside(ROOT, path.join(ROOT, id)));
      }),
      fuzzParams(3000),
    );
  });
});

describe('files a trainer names', () => {
  const attemptDir = path.join(ROOT, 'run-1', 'attempt-1');

  it('isInside: a path is inside a folder only if it resolves below it', () => {
    fc.assert(
      fc.property(hostileString(), (rel) => {
        const file = path.join(attemptDir, rel);
        const resolved = path.resolve(file);
        assert.equal(isInside(attemptDir, file), resolved.startsWith(`${attemptDir}${path.sep}`), rel);
      }),
      fuzzParams(),
    );
    assert.equal(isInside(attemptDir, attemptDir), false, 'the folder itself is not inside it');
    assert.equal(isInside(attemptDir, `${attemptDir}-other/x`), false, 'a sibling with the same start');
    assert.equal(isInside(attemptDir, path.join(attemptDir, '..foo')), true, 'a name that starts with ".."');
  });

  it('a checkpoint or model outside the attempt folder is ignored (with a warning), never uploaded', async () => {
    const uploaded: string[] = [];
    const state = { progress: {}, cpu: 0 } as unknown as AttemptState;
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const context = {
      state,
      log,
      uploads: { add: (file: string) => void uploaded.push(file) },
      watchdog: { heard() {} },
      pushProgress: async () => {},
      metrics: { progress() {} },
      outDir: path.join(attemptDir, 'out'),
      attemptDir,
    } as unknown as TrainerEventsContext;
    const onEvent = trainerEventHandler(context);
    for (const p of ['/etc/passwd', `${attemptDir}/../../other/step-1.pt`, `${attemptDir}-x/step-1.pt`]) {
      await onEvent({ event: 'checkpoint', step: 1, epoch: 0, path: p });
    }
    await onEvent({ event: 'checkpoint', step: 2, epoch: 0, path: `${attemptDir}/checkpoints/step-2.pt` });
    assert.deepEqual(uploaded, [`${attemptDir}/checkpoints/step-2.pt`]);
    await onEvent({ event: 'done', modelPath: '/home/someone/.aws/credentials' });
    assert.equal(state.finished?.modelPath, path.join(attemptDir, 'out', 'model.pt'));
    await onEvent({ event: 'done', modelPath: `${attemptDir}/out/best.pt` });
    assert.equal(state.finished?.modelPath, `${attemptDir}/out/best.pt`);
    assert.equal(lines.filter((l) => /outside the attempt folder ignored/.test(l)).length, 4);
  });
});
