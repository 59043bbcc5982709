// The server's pushback (rate limits when 1,000 supervisors start at once, the in-flight Update cap): retried with
// jittered exponential backoff and each retry reported; anything else fails at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PushbackRetry, pushbackDelayMs, retryPushback } from '../../client/pushback';

/** A gRPC error as @grpc/grpc-js raises it, wrapped the way the Temporal client wraps it. */
const grpcError = (code: number, message: string) =>
  Object.assign(new Error('wrapped'), { cause: Object.assign(new Error(message), { code }) });
const noSleep = () => Promise.resolve();

describe('retryPushback', () => {
  it('retries RESOURCE_EXHAUSTED until the call goes through, reporting each retry', async () => {
    const retries: PushbackRetry[] = [];
    let calls = 0;
    const result = await retryPushback(
      'drift alert a-1',
      async () => {
        if (++calls <= 3) throw grpcError(8, 'namespace rate limit exceeded');
        return 'ack';
      },
      (r) => retries.push(r),
      noSleep,
    );
    assert.equal(result, 'ack');
    assert.deepEqual(
      retries.map(({ what, attempt, code, message }) => ({ what, attempt, code, message })),
      [1, 2, 3].map((attempt) => ({ what: 'drift alert a-1', attempt, code: 8, message: 'wrapped' })),
    );
  });

  it('retries an Update that timed out waiting for a busy worker, and a workflow task failing for the moment', async () => {
    const codes: number[] = [];
    let calls = 0;
    const result = await retryPushback(
      'drift alert a-2',
      async () => {
        calls++;
        if (calls === 1) throw grpcError(4, 'context deadline exceeded');
        if (calls === 2) throw grpcError(9, 'Update-with-Start could not be executed.');
        if (calls === 3) throw grpcError(9, 'Workflow Task in failed state.');
        return 'ack';
      },
      (r) => codes.push(r.code),
      noSleep,
    );
    assert.equal(result, 'ack');
    assert.deepEqual(codes, [4, 9, 9]);
  });

  it('fails at once on another FAILED_PRECONDITION', async () => {
    let calls = 0;
    await assert.rejects(
      retryPushback(
        'x',
        async () => {
          calls++;
          throw grpcError(9, 'namespace is not active');
        },
        () => assert.fail('no retry expected'),
        noSleep,
      ),
      /wrapped/,
    );
    assert.equal(calls, 1);
  });

  it('fails at once on an error that is not pushback', async () => {
    let calls = 0;
    await assert.rejects(
      retryPushback(
        'x',
        async () => {
          calls++;
          throw grpcError(3, 'invalid argument');
        },
        () => assert.fail('no retry expected'),
        noSleep,
      ),
      /wrapped/,
    );
    assert.equal(calls, 1);
  });

  it('gives up after 60 attempts, throwing the last pushback', async () => {
    let calls = 0;
    await assert.rejects(
      retryPushback(
        'x',
        async () => {
          calls++;
          throw grpcError(14, 'unavailable');
        },
        undefined,
        noSleep,
      ),
      (err: Error) => (err.cause as { code: number }).code === 14,
    );
    assert.equal(calls, 60);
  });

  it('backs off from 100 ms, doubling, capped at 2 s, jittered ±50%', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 10].map((a) => pushbackDelayMs(a, 0.5)),
      [100, 200, 400, 800, 1600, 2000, 2000],
    );
    assert.equal(pushbackDelayMs(1, 0), 50);
    assert.ok(pushbackDelayMs(10, 0.999) < 3000);
  });
});
