// `ct schemas`: the zod schemas exported as JSON Schema (schemas/*.json) for users of other languages.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppConfig } from '../core/appConfig';
import { DriftAlert, DriftCheckInput, RetrainRequest, ScheduledRetrainInput, SupervisorAck, SupervisorInput } from '../core/supervisorMessages';
import { DriftReport, ReferenceProfile } from '../core/drift';
import { ModelConfig } from '../core/modelConfig';
import { ModelCard } from '../core/modelCard';
import { RunInput } from '../core/runInput';
import { ApprovalInput, RunStatus } from '../core/runStatus';
import { projectRoot } from '../stack/paths';

export const EXPORTED_SCHEMAS = {
  'run-input': { schema: RunInput, io: 'input' as const },
  'model-config': { schema: ModelConfig, io: 'input' as const },
  'approval-input': { schema: ApprovalInput, io: 'input' as const },
  'app-config': { schema: AppConfig, io: 'input' as const },
  'run-status': { schema: RunStatus, io: 'output' as const },
  'model-card': { schema: ModelCard, io: 'output' as const },
  'drift-report': { schema: DriftReport, io: 'output' as const },
  'drift-alert': { schema: DriftAlert, io: 'input' as const },
  'retrain-request': { schema: RetrainRequest, io: 'input' as const },
  'supervisor-input': { schema: SupervisorInput, io: 'input' as const },
  'drift-check-input': { schema: DriftCheckInput, io: 'input' as const },
  'scheduled-retrain-input': { schema: ScheduledRetrainInput, io: 'input' as const },
  'supervisor-ack': { schema: SupervisorAck, io: 'output' as const },
  'reference-profile': { schema: ReferenceProfile, io: 'output' as const },
};

export function renderSchemas(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(EXPORTED_SCHEMAS).map(([name, { schema, io }]) => [
      `${name}.schema.json`,
      `${JSON.stringify({ $id: `${name}.schema.json`, ...z.toJSONSchema(schema, { io, unrepresentable: 'any' }) }, null, 2)}\n`,
    ]),
  );
}

export function writeSchemas(dir = path.join(projectRoot, 'schemas')): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(renderSchemas()).map(([file, text]) => {
    writeFileSync(path.join(dir, file), text);
    return path.join(dir, file);
  });
}
