// Logs are structured and never carry secrets.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, PinoTemporalLogger } from '../../workers/logging';
import { trainerEnv } from '../../adapters/files';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

describe('logging', () => {
  it('redacts credentials wherever they appear in a log record', () => {
    const { lines, stream } = capture();
    const log = createLogger('info', stream);
    log.info(
      {
        s3: { secretAccessKey: 'SECRET1', accessKeyId: 'AKIA1', bucket: 'b' },
        apiKey: 'KEY',
        headers: { authorization: 'Bearer T' },
      },
      'config',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['SECRET1', 'AKIA1', 'KEY', 'Bearer T']) assert.ok(!text.includes(secret), `${secret} leaked`);
    assert.equal((lines[0]!.s3 as Record<string, unknown>).bucket, 'b');
  });

  it('turns Temporal log metadata into fields', () => {
    const { lines, stream } = capture();
    new PinoTemporalLogger(createLogger('debug', stream)).info('Activity completed', {
      workflowId: 'w',
      runId: 'r',
      activityType: 'trainModel',
    });
    assert.deepEqual(
      [lines[0]!.msg, lines[0]!.workflowId, lines[0]!.runId, lines[0]!.activityType, lines[0]!.level],
      ['Activity completed', 'w', 'r', 'trainModel', 30],
    );
  });

  it('keeps credentials out of the trainer environment', () => {
    process.env.CT_S3_SECRET_ACCESS_KEY = 'x';
    process.env.AWS_SECRET_ACCESS_KEY = 'y';
    process.env.TEMPORAL_API_KEY = 'z';
    const env = trainerEnv('/venv/bin');
    assert.equal(env.CT_S3_SECRET_ACCESS_KEY, undefined);
    assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined);
    assert.equal(env.TEMPORAL_API_KEY, undefined);
    assert.ok(env.PATH!.startsWith('/venv/bin:'));
    delete process.env.CT_S3_SECRET_ACCESS_KEY;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.TEMPORAL_API_KEY;
  });
});
