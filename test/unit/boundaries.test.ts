// Parsing at the boundaries: configuration files and environment, CSV, run input, trainer events.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { typeCell } from '../../core/csv';
import { csvProblem, parseCsvText } from '../../adapters/csvFiles';
import { RunInput } from '../../core/runInput';
import { parseTrainerLine } from '../../core/trainerProtocol';
import { loadAppConfig } from '../../workers/config';
import { renderSchemas } from '../../cli/schemas';
import { readFileSync } from 'node:fs';
import { projectRoot } from '../../stack/paths';

describe('runtime configuration', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-config-'));

  it('reads a file and lets the environment override it', () => {
    writeFileSync(path.join(dir, 'ct.config.yaml'), 's3:\n  bucket: from-file\n  region: eu-west-1\ntaskQueue: q1\n');
    const c = loadAppConfig({ CT_S3_BUCKET: 'from-env', CT_S3_FORCE_PATH_STYLE: 'true' }, dir);
    assert.equal(c.s3.bucket, 'from-env');
    assert.equal(c.s3.region, 'eu-west-1');
    assert.equal(c.s3.forcePathStyle, true);
    assert.equal(c.taskQueue, 'q1');
  });

  it('fails at start-up naming the exact field and reason', () => {
    assert.throws(
      () =>
        loadAppConfig(
          {
            CT_S3_BUCKET: 'Bad_Bucket',
            CT_S3_ENDPOINT: 'not a url',
            CT_S3_FORCE_PATH_STYLE: 'yes',
            CT_S3_ACCESS_KEY_ID: 'k',
          },
          os.tmpdir(),
        ),
      (err: Error) => {
        assert.match(err.message, /s3\.bucket: not a valid S3 bucket name/);
        assert.match(err.message, /s3\.endpoint: /);
        assert.match(err.message, /s3\.forcePathStyle: /);
        return true;
      },
    );
    assert.throws(
      () => loadAppConfig({ CT_S3_BUCKET: 'ok-bucket', CT_S3_ACCESS_KEY_ID: 'k' }, os.tmpdir()),
      /s3\.secretAccessKey: give both accessKeyId and secretAccessKey/,
    );
    assert.throws(() => loadAppConfig({ CT_CONFIG: path.join(dir, 'nope.json') }, dir), /does not exist/);
    writeFileSync(path.join(dir, 'typo.json'), '{"s3": {"bucket": "ok-bucket", "bukket": 1}}');
    assert.throws(() => loadAppConfig({ CT_CONFIG: 'typo.json' }, dir), /s3: Unrecognized key: "bukket"/);
  });
});

describe('CSV', () => {
  it('parses quotes, doubled quotes and CRLF, and types cells by the schema', () => {
    const { header, rows } = parseCsvText('a,b\r\n"x, y","say ""hi"""\r\n1,\n');
    assert.deepEqual(header, ['a', 'b']);
    assert.deepEqual(rows, [
      ['x, y', 'say "hi"'],
      ['1', ''],
    ]);
    assert.equal(typeCell('42', 'integer'), 42);
    assert.equal(typeCell('', 'integer'), null);
    assert.equal(typeCell('4x', 'number'), '4x', 'unparsable stays a string for validation to name');
    assert.deepEqual(
      ['Infinity', '-inf', 'INF', 'nan', ' 7 '].map((v) => typeCell(v, 'number')),
      [Infinity, -Infinity, Infinity, Number.NaN, 7],
    );
    assert.equal(typeCell('  ', 'number'), '  ', 'a blank cell is not 0');
    assert.equal(typeCell('2001-01-01 10:00:00', 'timestamp'), Date.UTC(2001, 0, 1, 10));
    const problem = (text: string) => {
      try {
        parseCsvText(text);
      } catch (err) {
        return csvProblem(err);
      }
      return 'parsed';
    };
    assert.match(problem('a\n"open'), /unterminated quoted field \(opened on line 2\)/);
    assert.equal(problem('a,b,c\n1,2,3\n\n4,5\n7,8,9\n'), 'row 2 (line 4) has 2 fields, the header has 3');
  });
});

describe('run input and trainer events', () => {
  it('fills defaults and names bad fields', () => {
    const ok = RunInput.parse({ modelId: 'flight-delay', dataset: { keys: ['a.parquet'] } });
    assert.deepEqual(ok.trigger, { kind: 'manual', requestedBy: 'unknown', reason: '' });
    const bad = RunInput.safeParse({ modelId: 'x', dataset: { keys: ['/abs'] }, trigger: { kind: 'cron' } });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error.issues.map((i) => i.path.join('.')).sort(), ['dataset.keys.0', 'trigger.kind']);
  });

  it('parses protocol lines and ignores noise', () => {
    assert.deepEqual(parseTrainerLine('{"event":"checkpoint","step":5,"epoch":0,"path":"/c/step-5.pt","bytes":10}'), {
      event: 'checkpoint',
      step: 5,
      epoch: 0,
      path: '/c/step-5.pt',
      bytes: 10,
    });
    assert.equal(parseTrainerLine('warming up'), null);
    assert.equal(parseTrainerLine('{"event":"progress"}'), null);
    assert.equal(parseTrainerLine('{not json'), null);
  });
});

describe('JSON Schemas', () => {
  it('accept the documented example run input', () => {
    RunInput.parse(JSON.parse(readFileSync(path.join(projectRoot, 'schemas', 'run-input.example.json'), 'utf8')));
  });

  it('in schemas/ and beside the trainers are current (regenerate with npm run schemas)', () => {
    for (const [file, text] of Object.entries(renderSchemas())) {
      assert.equal(readFileSync(path.join(projectRoot, file), 'utf8'), text, `${file} is stale`);
    }
  });
});
