// The `ct status` view on its own: the progress bar, the ETA, the approval wait, the supervisor lines, the
// one-line form that --watch prints when piped, and the watch loop over a scripted sequence of frames.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeSupervisor,
  initialState,
  receiveRetrainRequest,
  recordRunStarted,
} from '../../core/continuousTraining';
import type { TrainingProgress } from '../../core/progress';
import type { TrialStatus } from '../../core/sweep';
import { RunStatus, timeUntil, waitingLine } from '../../core/runStatus';
import { RetrainRequest } from '../../core/supervisorMessages';
import {
  clock,
  progressBarLine,
  runBlock,
  runLine,
  stagesLine,
  supervisorBlock,
  supervisorLine,
  trainingEta,
} from '../../cli/statusView';
import { type Frame, intervalMs, watch } from '../../cli/statusWatch';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

const progress = (over: Partial<TrainingProgress> = {}): TrainingProgress => ({
  attempt: 1,
  step: 120,
  totalSteps: 400,
  epoch: 1,
  loss: 0.41234,
  samplesPerSec: 850,
  checkpointKey: 'checkpoints/flight-delay/r1/step-120.pt',
  checkpointSha256: null,
  device: 'cpu',
  samplesProcessed: 120 * 512,
  attemptStartedAt: iso(0),
  updatedAt: iso(60_000),
  resumedFromStep: 0,
  ...over,
});

const status = (over: Partial<RunStatus> = {}): RunStatus =>
  RunStatus.parse({
    modelId: 'flight-delay',
    workflowId: 'retrain/flight-delay/x',
    runId: 'r1',
    stage: 'train',
    outcome: 'running',
    trigger: { kind: 'manual', requestedBy: 'ana', reason: '' },
    datasetKeys: ['data/jan.parquet'],
    timings: [
      { stage: 'validate', startedAt: iso(0), endedAt: iso(1500), seconds: 1.5 },
      { stage: 'train', startedAt: iso(2000), endedAt: null, seconds: null },
    ],
    validation: null,
    training: progress(),
    evaluation: null,
    verdict: null,
    decision: null,
    registered: null,
    error: null,
    ...over,
  });

describe('ct status view', () => {
  it('draws the bar with step of total, percent, samples/s, ETA and loss', () => {
    const line = progressBarLine(progress());
    // 120/400 = 30% of 24 cells → 7 full cells; 280 steps × 512 samples at 850 samples/s → 2:49.
    assert.match(line, /^\[█{7}░{17}\] 120\/400 · 30% · 850 samples\/s · ETA 2:49 · loss 0\.4123$/);
    assert.match(progressBarLine(progress({ step: 400 })), /^\[█{24}\] 400\/400 · 100% .*ETA 0:00/);
    assert.equal(
      progressBarLine(progress({ totalSteps: null, samplesPerSec: null, loss: null })),
      '120/?',
      'without a total there is no bar, percent or ETA',
    );
  });

  it('computes the ETA from samples/s, else from the step rate of this attempt', () => {
    // 280 steps × 512 samples at 850 samples/s.
    assert.equal(Math.round(trainingEta(progress())!), Math.round((280 * 512) / 850));
    // No samples/s: 100 steps (from 20 to 120) in 50 s → 2 steps/s → 140 s for 280 steps.
    const byRate = progress({ samplesPerSec: null, resumedFromStep: 20, updatedAt: iso(50_000) });
    assert.equal(trainingEta(byRate), 140);
    assert.equal(trainingEta(progress({ samplesPerSec: null, updatedAt: iso(0) })), null, 'no time elapsed yet');
    assert.equal(trainingEta(progress({ totalSteps: null })), null);
    assert.equal(clock(42), '0:42');
    assert.equal(clock(3723), '1:02:03');
  });

  it('shows stages with their times, the stage in progress counting up', () => {
    assert.equal(stagesLine(status(), T0 + 12_000), 'stages: validate 1.5s · train 10s…');
  });

  it('in a sweep, shows each trial and which one trains', () => {
    const trial = (name: string, state: TrialStatus['state'], step: number, metric: number | null) => ({
      name,
      values: { learningRate: 0.001 },
      state,
      rung: 0,
      step,
      metric,
      error: null,
    });
    const s = status({
      stage: 'sweep',
      training: progress({ trial: 't02', step: 20, totalSteps: 84 }),
      sweep: {
        metric: { name: 'accuracy', goal: 'maximize' },
        halving: true,
        rungs: [17],
        trials: [
          trial('t01', 'stopped', 17, 0.41),
          trial('t02', 'training', 20, 0.8),
          trial('t03', 'pending', 0, null),
        ],
        winner: null,
      },
    });
    const block = runBlock(s, T0 + 12_000);
    assert.ok(
      block.includes(
        '  sweep on accuracy (maximize), halving at steps 17 · t01 stopped 0.41 @17 · t02 training 0.8 · t03 pending',
      ),
      block.join('\n'),
    );
    assert.ok(
      block.some((l) => l.startsWith('  train t02 [')),
      block.join('\n'),
    );
    assert.match(runLine(s, T0), /^train t02 20\/84 /);
  });

  it('says who may approve, how many have, and when the next deadline fires', () => {
    const approval = {
      approvers: ['alice', 'bob'],
      quorum: 2,
      approvals: ['alice'],
      escalated: false,
      next: { kind: 'reminder' as const, at: iso(180_000) },
    };
    assert.equal(
      waitingLine(approval, T0),
      `waiting for approval by alice, bob (1/2) · reminder in 3m (at ${iso(180_000)})`,
    );
    assert.equal(
      waitingLine(approval),
      `waiting for approval by alice, bob (1/2) · next: reminder at ${iso(180_000)}`,
      'without now (the Web UI) the deadline is absolute',
    );
    const s = status({
      stage: 'approval',
      approval: { ...approval, escalated: true, next: { kind: 'timeout', at: iso(26 * 3_600_000) } },
      verdict: { passed: true, championVersion: null, checks: [], reasons: ['rocAuc 0.71 ≥ 0.5'] },
    });
    assert.match(
      runLine(s, T0),
      /^approval: waiting for approval by alice, bob \(1\/2, escalated\) · timeout in 1d 2h/,
    );
    const block = runBlock(s, T0).join('\n');
    assert.match(block, /gate PASSED — rocAuc 0\.71 ≥ 0\.5/);
    assert.match(block, /waiting for approval by alice, bob/);
    assert.doesNotMatch(block, /\[█/, 'no training bar once training is over');
    assert.equal(timeUntil(65 * 60_000), '1h 05m');
    assert.equal(timeUntil(-5000), '0s', 'a deadline just passed');
  });

  it('prints a one-line summary that changes with the step, not with the clock', () => {
    const s = status();
    assert.equal(runLine(s, T0), 'train 120/400 30% 850 samples/s ETA 2:49 loss 0.4123');
    assert.equal(runLine(s, T0 + 5000), runLine(s, T0), 'the same status a moment later is the same line');
    assert.notEqual(runLine(status({ training: progress({ step: 121 }) }), T0), runLine(s, T0));
    const block = runBlock(s, T0).join('\n');
    assert.match(block, /^retrain\/flight-delay\/x: stage train \(running\)/);
    assert.match(block, /last checkpoint: checkpoints\/flight-delay\/r1\/step-120\.pt/);
    assert.equal(runLine(status({ stage: 'done', outcome: 'promoted' }), T0), 'done promoted');
    assert.equal(
      runLine(status({ stage: 'validate', outcome: 'failed', error: 'no object' }), T0),
      'validate failed: no object',
    );
  });

  it("shows the supervisor's phase, open incident and the run in flight", () => {
    const state = initialState('flight-delay');
    state.championVersion = 1;
    receiveRetrainRequest(state, RetrainRequest.parse({ requestedBy: 'ana', reason: 'new labels' }), T0, {
      persistence: 1,
      manualWhilePaused: false,
    });
    recordRunStarted(state, 'retrain/flight-delay/x', T0);
    const sup = describeSupervisor(state, T0);
    const block = supervisorBlock(sup).join('\n');
    assert.match(block, /^flight-delay: retraining · champion v1/);
    assert.match(block, /open incident-0001 \(manual, opened .* by ana\): new labels/);
    assert.match(block, /run: retrain\/flight-delay\/x running/);
    assert.equal(
      supervisorLine(sup, status(), T0),
      'flight-delay: retraining · champion v1 · incident incident-0001 · retrain/flight-delay/x train 120/400 30% 850 samples/s ETA 2:49 loss 0.4123',
    );
    assert.equal(supervisorLine(describeSupervisor(initialState('m'), T0), null, T0), 'm: watching · champion none');
  });

  it('--watch piped prints a line only when it changes and stops at the closed frame; --json prints NDJSON', async () => {
    const frames = (): (() => Promise<Frame>) => {
      const lines = ['validate', 'train 0/47', 'train 0/47', 'train 33/47', 'done promoted'];
      let i = 0;
      return () => {
        const line = lines[i++]!;
        return Promise.resolve({ block: [line], line, json: { line }, closed: line === 'done promoted' });
      };
    };
    const written: string[] = [];
    const out = { write: (t: string) => written.push(t) } as unknown as NodeJS.WriteStream;
    const last = await watch(frames(), { intervalMs: 1, json: false, tty: false, out });
    assert.equal(last?.line, 'done promoted');
    assert.deepEqual(written, ['validate\n', 'train 0/47\n', 'train 33/47\n', 'done promoted\n']);
    written.length = 0;
    await watch(frames(), { intervalMs: 1, json: true, tty: false, out });
    assert.deepEqual(
      written.map((l) => (JSON.parse(l) as { line: string }).line),
      ['validate', 'train 0/47', 'train 33/47', 'done promoted'],
    );
    assert.equal(intervalMs('0.5'), 500);
    assert.equal(intervalMs(undefined), 1000);
    for (const bad of ['0', '-1', 'soon', 'Infinity'])
      assert.throws(() => intervalMs(bad), /--interval must be a positive number of seconds/);
  });
});
