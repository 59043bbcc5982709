// The static details of a retrainingPipeline run, shown by the Temporal Web UI under "User Metadata" (markdown):
// why it started, on what data, and the commands that inspect or decide it.
import type { RunInput } from './runInput';

export function runDetails(input: RunInput, workflowId: string): string {
  const t = input.trigger;
  return [
    `**${input.modelId}** retraining, ${t.kind} trigger by ${t.requestedBy}${t.reason ? `: ${t.reason}` : ''}`,
    ...(t.incident ? [`incident ${t.incident.id} of supervisor ${t.incident.supervisor}`] : []),
    `data: ${input.dataset.keys.join(', ')}`,
    `inspect: \`ct status ${workflowId}\` · decide: \`ct approve ${workflowId} --by <name>\` or \`ct reject …\``,
  ].join('\n\n');
}
