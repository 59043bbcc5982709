// The preflight verdict (core/preflight.ts): which ending of each smoke run is a problem, and of which kind.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstRunProblem, resumeRunProblem, type SmokeRun, spreadRows } from '../../core/preflight';

const ok: SmokeRun = {
  exitCode: 75,
  signal: null,
  error: null,
  stderrTail: '',
  startedStep: 0,
  checkpoints: [{ step: 2, path: '/w/checkpoints/step-00000002.pt' }],
  timedOut: false,
};

describe('preflight verdict', () => {
  it('a first run stopped at maxSteps (75) or finished (0) with a checkpoint passes', () => {
    assert.equal(firstRunProblem(ok, 2, 300), null);
    assert.equal(firstRunProblem({ ...ok, exitCode: 0 }, 2, 300), null);
  });

  it("names the kind and the trainer's own message for each exit code", () => {
    const error = { class: 'config', message: 'unknown hyperparameter(s): dropout' };
    const cases: [Partial<SmokeRun>, string, RegExp][] = [
      [
        { exitCode: 2, error },
        'config',
        /rejected its configuration in the preflight run of 2 step\(s\): unknown hyper/,
      ],
      [{ exitCode: 3, error: { class: 'data', message: 'label 7' } }, 'data', /rejected its data .*: label 7/],
      [{ exitCode: 4 }, 'config', /ran out of memory/],
      [{ exitCode: 1, stderrTail: 'RuntimeError: mat1 and mat2 shapes' }, 'crash', /crashed \(exit 1\).*shapes/],
      [{ exitCode: null, signal: 'SIGKILL' }, 'killed', /killed by SIGKILL/],
      [{ exitCode: null, signal: 'SIGKILL', timedOut: true }, 'timeout', /did not end within 300 s/],
      [{ checkpoints: [] }, 'checkpoint', /wrote no checkpoint .*everySteps was 2/],
    ];
    for (const [change, kind, message] of cases) {
      const problem = firstRunProblem({ ...ok, ...change }, 2, 300);
      assert.equal(problem?.kind, kind, JSON.stringify(change));
      assert.match(problem.message, message);
    }
  });

  it('a resume must load the checkpoint and start at its step', () => {
    const resumed = { ...ok, startedStep: 2 };
    assert.equal(resumeRunProblem(resumed, { step: 2 }, 300), null);
    const unusable = resumeRunProblem(
      { ...resumed, exitCode: 5, error: { class: 'checkpoint', message: 'bad' } },
      { step: 2 },
      300,
    );
    assert.deepEqual(unusable, {
      kind: 'checkpoint',
      message: 'trainer could not load the checkpoint it had just written: bad',
    });
    assert.match(
      resumeRunProblem({ ...resumed, startedStep: 0 }, { step: 2 }, 300)!.message,
      /resumed at step 0, not .*\(2\)/,
    );
    assert.equal(resumeRunProblem({ ...resumed, startedStep: null }, { step: 2 }, 300)?.kind, 'crash');
  });

  it('spreads the slice over the whole split', () => {
    assert.deepEqual(spreadRows(3, 5), [0, 1, 2]);
    assert.deepEqual(spreadRows(10, 4), [0, 2, 5, 7]);
    assert.equal(new Set(spreadRows(1_000_003, 256)).size, 256);
  });
});
