// Evaluate and gate, and promotion. A verdict holds only against the champion it was computed with: when another
// run promoted a new champion meanwhile, the candidate is evaluated and gated again before it may be promoted.
import { log, patched } from '@temporalio/workflow';
import { evaluateGate } from '../../core/gate';
import type { ModelConfig } from '../../core/modelConfig';
import type {
  Decision,
  EvaluationReport,
  GateVerdict,
  PreparedData,
  RegisteredVersion,
  TrainingResult,
} from '../../core/reports';
import type { Outcome } from '../../core/runStatus';
import { controlSteps, evaluation as scoring } from './proxies';
import type { RunBook } from './runBook';

export interface TrainedCandidate {
  modelId: string;
  runId: string;
  config: ModelConfig;
  prepared: PreparedData;
  trained: TrainingResult;
}

export interface Gated {
  evaluation: EvaluationReport;
  verdict: GateVerdict;
}

/** Scores candidate and champion on the holdout, applies the model's gate, and audits the verdict. */
export async function evaluateAndGate(book: RunBook, candidate: TrainedCandidate): Promise<Gated> {
  const { holdout } = candidate.prepared.splits;
  const evaluation = await book.stage('evaluate', () =>
    scoring.evaluateModels.executeWithOptions(
      { summary: `score ${holdout.rows} holdout rows, candidate vs champion` },
      [candidate],
    ),
  );
  book.status.evaluation = evaluation;
  const verdict = await book.stage('gate', async () => evaluateGate(candidate.config.gate, evaluation));
  book.status.verdict = verdict;
  await book.audit('gate-verdict', 'system', {
    passed: verdict.passed,
    championVersion: verdict.championVersion,
    reasons: verdict.reasons,
    holdoutSha256: evaluation.holdoutSha256,
  });
  return { evaluation, verdict };
}

export const OWN_PROMOTION_REPEATED = 'own-promotion-repeated';

/**
 * Promotes the approved challenger: a compare-and-swap from the champion its verdict was computed against. A
 * champion that moved (while people decided, or in a race at the swap) means evaluating and gating again.
 */
export async function promote(
  book: RunBook,
  candidate: TrainedCandidate,
  registered: RegisteredVersion,
  decision: Decision,
  gated: Gated,
): Promise<Outcome> {
  let { evaluation, verdict } = gated;
  const { modelId, runId } = candidate;
  const championNow = await controlSteps().bookkeeping.currentChampionVersion.executeWithOptions(
    { summary: 'read the champion' },
    [modelId],
  );
  // The champion already being this run's version means this run promoted it and the workflow task that recorded it
  // was lost (the short steps are local activities: a task that times out runs them again). The swap is idempotent,
  // so it runs again with the verdict it was made on, instead of gating the candidate against itself.
  const ownPromotion = championNow === registered.version && patched(OWN_PROMOTION_REPEATED);
  for (let moved = championNow !== verdict.championVersion && !ownPromotion; ; moved = true) {
    if (moved) {
      log.info('champion changed: evaluating again', { gatedAgainst: verdict.championVersion });
      ({ evaluation, verdict } = await evaluateAndGate(book, candidate));
      if (!verdict.passed) return 'rejected-by-gate';
    }
    book.status.registered = await book.stage('register', () =>
      controlSteps().registry.promoteChampion.executeWithOptions(
        { summary: `promote v${registered.version} over v${verdict.championVersion ?? 'none'}` },
        [{ modelId, runId, registered, decision, evaluation, verdict }],
      ),
    );
    if (book.status.registered.promoted) {
      await book.audit('promotion', decision.by, {
        version: registered.version,
        previousChampion: verdict.championVersion,
      });
      return 'promoted';
    }
  }
}
