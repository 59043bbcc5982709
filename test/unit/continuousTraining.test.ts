// The supervisor's rules on their own: coalescing, persistence, cooldown, pause, duplicates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeSupervisor,
  expireCooldown,
  initialState,
  pendingStart,
  receiveDrift,
  receiveRetrainRequest,
  recordRunFinished,
  recordRunStarted,
  recordStartFailed,
  unknownFeatures,
} from '../../core/continuousTraining';
import { DriftAlert, RetrainRequest } from '../../core/supervisorMessages';

const rules = { persistence: 1, manualWhilePaused: false };
const alert = (id: string, drift = true) =>
  DriftAlert.parse({
    alertId: id,
    modelId: 'm',
    source: 'test',
    datasetDrift: drift,
    driftedFeatures: drift ? ['distance'] : [],
  });
const HOUR = 3_600_000;

describe('supervisor rules', () => {
  it('opens one incident for a storm of drift reports and attaches the rest as evidence', () => {
    const s = initialState('m');
    const acks = Array.from({ length: 200 }, (_, i) => receiveDrift(s, alert(`a${i}`), 1000 + i, rules));
    assert.equal(acks.filter((a) => a.action === 'started').length, 1);
    assert.equal(acks.filter((a) => a.action === 'attached').length, 199);
    assert.equal(s.incident?.evidenceCount, 200);
    assert.deepEqual(new Set(s.incident?.evidence.map((e) => e.id)).size, 200);
    assert.equal(pendingStart(s)?.id, 'incident-0001');
  });

  it('needs drift in N consecutive windows when persistence is N; a clean window resets the count', () => {
    const s = initialState('m');
    const r = { ...rules, persistence: 2 };
    assert.equal(receiveDrift(s, alert('1'), 1, r).action, 'recorded');
    assert.equal(receiveDrift(s, alert('2', false), 2, r).action, 'recorded');
    assert.equal(receiveDrift(s, alert('3'), 3, r).action, 'recorded');
    assert.equal(s.incident, null);
    assert.equal(receiveDrift(s, alert('4'), 4, r).action, 'started');
  });

  it('attaches reports during the cooldown after a run and opens a new incident after it', () => {
    const s = initialState('m');
    receiveDrift(s, alert('1'), 0, rules);
    recordRunStarted(s, 'retrain/m/1', 10);
    assert.equal(receiveDrift(s, alert('2'), 20, rules).action, 'attached');
    assert.equal(
      recordRunFinished(
        s,
        'retrain/m/other',
        { outcome: 'failed', version: null, promoted: false, error: 'x' },
        30,
        HOUR,
      ),
      false,
      'the end of another run (a late or spoofed notice) changes nothing',
    );
    assert.equal(s.incident?.run?.finishedAt, null);
    assert.equal(
      recordRunFinished(
        s,
        'retrain/m/1',
        { outcome: 'promoted', version: 3, promoted: true, error: null },
        HOUR,
        6 * HOUR,
      ),
      true,
    );
    assert.equal(s.championVersion, 3);
    assert.equal(describeSupervisor(s, 2 * HOUR).phase, 'cooling-down');
    const during = receiveDrift(s, alert('3'), 2 * HOUR, rules);
    assert.equal(during.action, 'attached');
    assert.equal(s.incident?.evidenceCount, 3);
    assert.equal(expireCooldown(s, 3 * HOUR), 7 * HOUR, 'still cooling: returns the end');
    assert.equal(expireCooldown(s, 7 * HOUR), null);
    assert.equal(s.incident, null, 'closed after the cooldown');
    assert.equal(s.closedIncidents.length, 1);
    const after = receiveDrift(s, alert('4'), 7 * HOUR + 1, rules);
    assert.equal(after.action, 'started');
    assert.equal(after.incidentId, 'incident-0002');
    assert.equal(describeSupervisor(s, 7 * HOUR + 1).lastRuns[0]?.workflowId, 'retrain/m/1');
  });

  it('records but does not act on drift while paused; manual requests need manualWhilePaused', () => {
    const s = initialState('m');
    s.paused = true;
    assert.equal(receiveDrift(s, alert('1'), 1, rules).action, 'paused');
    const manual = RetrainRequest.parse({ requestedBy: 'ana', reason: 'new labels' });
    assert.equal(receiveRetrainRequest(s, manual, 2, rules).action, 'paused');
    assert.equal(
      receiveRetrainRequest(
        s,
        RetrainRequest.parse({ kind: 'schedule', requestedBy: 'schedule', reason: 'weekly' }),
        3,
        { ...rules, manualWhilePaused: true },
      ).action,
      'paused',
      'schedules stay paused',
    );
    assert.equal(receiveRetrainRequest(s, manual, 4, { ...rules, manualWhilePaused: true }).action, 'started');
  });

  it('learns the champion from the drift checks that compared with it', () => {
    const s = initialState('m');
    receiveDrift(
      s,
      DriftAlert.parse({ alertId: 'c1', modelId: 'm', datasetDrift: false, championVersion: 3 }),
      1,
      rules,
    );
    assert.equal(s.championVersion, 3);
    receiveDrift(s, alert('c2', false), 2, rules);
    assert.equal(s.championVersion, 3, 'an alert without one leaves it');
  });

  it('ignores replayed alert and request ids', () => {
    const s = initialState('m');
    assert.equal(receiveDrift(s, alert('x'), 1, rules).action, 'started');
    assert.equal(receiveDrift(s, alert('x'), 2, rules).action, 'duplicate');
    const req = RetrainRequest.parse({ requestId: 'r1', requestedBy: 'ana', reason: 'why' });
    assert.equal(receiveRetrainRequest(s, req, 3, rules).action, 'attached');
    assert.equal(receiveRetrainRequest(s, req, 4, rules).action, 'duplicate');
    assert.equal(s.incident?.evidenceCount, 2);
  });

  it('a manual request during a cooldown opens its own incident; during a run it attaches', () => {
    const s = initialState('m');
    receiveDrift(s, alert('1'), 0, rules);
    recordRunStarted(s, 'retrain/m/1', 1);
    const req = RetrainRequest.parse({ requestedBy: 'ana', reason: 'now' });
    assert.equal(receiveRetrainRequest(s, req, 2, rules).action, 'attached');
    recordRunFinished(s, 'retrain/m/1', { outcome: 'rejected', version: null, promoted: false, error: null }, 10, HOUR);
    const ack = receiveRetrainRequest(s, req, 20, rules);
    assert.equal(ack.action, 'started');
    assert.equal(s.incident?.kind, 'manual');
    assert.equal(s.closedIncidents[0]?.run?.outcome, 'rejected');
  });

  it('an incident whose run cannot start records why and cools down; reports join it, a request retries', () => {
    const s = initialState('m');
    receiveDrift(s, alert('1'), 0, rules);
    recordStartFailed(s, 'no data files under s3://b/data/', 10, HOUR);
    assert.equal(s.incident?.error, 'no data files under s3://b/data/');
    assert.equal(pendingStart(s), null, 'not retried by itself');
    assert.equal(describeSupervisor(s, 20).phase, 'cooling-down');
    assert.equal(receiveDrift(s, alert('2'), 20, rules).action, 'attached', 'no new incident per report');
    expireCooldown(s, HOUR + 10);
    assert.equal(s.closedIncidents[0]?.error, 'no data files under s3://b/data/');
    assert.equal(receiveDrift(s, alert('3'), HOUR + 11, rules).action, 'started');
    recordStartFailed(s, 'still no data', HOUR + 12, HOUR);
    assert.equal(
      receiveRetrainRequest(
        s,
        RetrainRequest.parse({ requestedBy: 'ana', reason: 'data is there now' }),
        HOUR + 13,
        rules,
      ).action,
      'started',
    );
  });

  it('validates alerts and names unknown features', () => {
    assert.throws(() => DriftAlert.parse({ alertId: '', modelId: 'm', datasetDrift: true }));
    assert.throws(() => DriftAlert.parse({ alertId: 'a', modelId: 'Bad Model', datasetDrift: true }));
    assert.throws(() => DriftAlert.parse({ alertId: 'a', modelId: 'm', datasetDrift: 'yes' }));
    assert.throws(() => DriftAlert.parse({ alertId: 'a', modelId: 'm', datasetDrift: true, extra: 1 }));
    assert.equal(unknownFeatures({ driftedFeatures: ['distance'] }, ['distance', 'hour']), null);
    assert.match(
      unknownFeatures({ driftedFeatures: ['distance', 'altitude'] }, ['distance', 'hour']) ?? '',
      /unknown feature\(s\) "altitude"/,
    );
  });

  it('carries a bounded state across continue-as-new whatever the traffic: the worst case stays under 1.5 MB', (ctx) => {
    // Every field at its longest: ids, sources, requesters and reasons at their schema maxima, a 1 KiB report key,
    // 1,000 drifted features per report; thousands of reports and requests over 50 incidents.
    const long = (c: string, n: number) => c.repeat(n);
    const features = Array.from({ length: 1000 }, (_, i) => `feature_${i}_${long('x', 40)}`);
    const longest = DriftAlert.parse({
      alertId: long('a', 200),
      modelId: 'm',
      source: long('s', 100),
      datasetDrift: true,
      driftedShare: 1,
      driftedFeatures: features,
      reportKey: `drift/${long('k', 1018)}`,
    });
    const report = (i: number) => ({ ...longest, alertId: `${i}-${longest.alertId}`.slice(0, 200) });
    const asked = RetrainRequest.parse({
      requestId: long('r', 200),
      requestedBy: long('p', 200),
      reason: long('why ', 500),
    });
    const request = (i: number) => ({ ...asked, requestId: `${i}-${asked.requestId}`.slice(0, 200) });
    const s = initialState('m');
    let t = 0;
    for (let incident = 0; incident < 12; incident++) {
      receiveDrift(s, report(t), ++t, rules);
      recordRunStarted(s, `retrain/m/${incident}`, ++t);
      for (let i = 0; i < 300; i++) {
        receiveDrift(s, report(t), ++t, rules);
        receiveRetrainRequest(s, request(t), ++t, rules);
      }
      recordRunFinished(
        s,
        `retrain/m/${incident}`,
        { outcome: 'failed', version: null, promoted: false, error: long('e', 100_000) },
        ++t,
        0,
      );
      expireCooldown(s, ++t);
    }
    receiveDrift(s, report(t), ++t, rules); // one incident open, its evidence full
    for (let i = 0; i < 300; i++) receiveRetrainRequest(s, request(t), ++t, rules);
    const bytes = new TextEncoder().encode(JSON.stringify(s)).length;
    ctx.diagnostic(`worst-case carried state: ${bytes} bytes`);
    assert.equal(s.closedIncidents.length, 10);
    assert.ok(s.incident!.evidenceCount > 300, 'evidence still counted');
    assert.ok(
      bytes < 1.5 * 2 ** 20,
      `carried state of ${(bytes / 2 ** 20).toFixed(2)} MiB (server limit: 2 MB a payload)`,
    );
    assert.match(s.incident!.reason, /and 990 more/);
  });
});
