// What every chaos cell checks once its run has ended, whatever the fault: the run ended as expected, no version
// registered twice, the audit chain verifies, no trainer process left, the supervisor holds one incident with one run.
import { listVersions, readCard } from '../../adapters/registryStore';
import type { RunStatus } from '../../core/runStatus';
import { createAuditLog } from '../../workers/config';
import { trainerProcesses, waitFor } from '../helpers/processes';
import { MODEL_ID, type CellStack } from './cellStack';

export interface Expected {
  /** The outcomes the run may end with (e.g. promoted, or rejected by the gate on an unlucky split). */
  outcomes: RunStatus['outcome'][];
}

/** Runs every check and returns the failed ones, each naming what it found (empty: all hold). */
export async function checkInvariants(stack: CellStack, result: RunStatus, expected: Expected): Promise<string[]> {
  const failures: string[] = [];
  if (!expected.outcomes.includes(result.outcome))
    failures.push(
      `run ended ${result.outcome}${result.error ? ` (${result.error})` : ''}, expected ${expected.outcomes.join(' or ')}`,
    );

  const versions = await listVersions(stack.store, MODEL_ID);
  const runsOfVersions = await Promise.all(
    versions.map(async (v) => (await readCard(stack.store, MODEL_ID, v)).run.runId),
  );
  const twice = runsOfVersions.filter((r, i) => runsOfVersions.indexOf(r) !== i);
  if (twice.length > 0) failures.push(`run(s) ${[...new Set(twice)].join(', ')} registered more than once`);

  const chain = await createAuditLog(stack.config).verify(MODEL_ID);
  if (!chain.ok) failures.push(`audit chain broken at record ${chain.seq}: ${chain.reason}`);

  // A trainer orphaned by a killed worker dies on its next write to the dead pipe: give it a few seconds.
  await waitFor('no trainer process', async () => trainerProcesses(stack.config.workDir).length === 0, 15_000).catch(
    () =>
      failures.push(
        `trainer process(es) left: ${trainerProcesses(stack.config.workDir)
          .map((p) => p.pid)
          .join(', ')}`,
      ),
  );

  // The supervisor records the end of the run within a poll of its watcher.
  const supervisor = await waitFor(
    'the supervisor to record the end of the run',
    async () => {
      const s = await stack.supervisor();
      const runs = [...s.closedIncidents, ...(s.incident ? [s.incident] : [])].map((i) => i.run);
      return runs.every((r) => r?.finishedAt) ? s : null;
    },
    60_000,
  ).catch(() => stack.supervisor());
  const incidents = [...supervisor.closedIncidents, ...(supervisor.incident ? [supervisor.incident] : [])];
  if (incidents.length !== 1) failures.push(`the supervisor holds ${incidents.length} incidents, expected 1`);
  const run = incidents[0]?.run;
  if (!run?.finishedAt) failures.push(`the supervisor did not record the end of its run (${run?.outcome ?? 'no run'})`);
  else if (run.outcome !== result.outcome)
    failures.push(`the supervisor recorded ${run.outcome}, the run ended ${result.outcome}`);
  let pipelines = 0;
  for await (const w of stack.client().workflow.list({ query: `WorkflowType = 'retrainingPipeline'` })) {
    void w;
    pipelines++;
  }
  if (pipelines !== 1) failures.push(`${pipelines} retraining runs, expected 1 for the incident`);
  return failures;
}
