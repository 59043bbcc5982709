// `ct schemas`: the zod schemas exported as JSON Schema (schemas/*.json) for users of other languages.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppConfig } from '../core/appConfig';
import { CodecPayloads } from '../core/codecProtocol';
import {
  DriftAlert,
  DriftCheckInput,
  RetrainRequest,
  RunFinishedNotice,
  ScheduledRetrainInput,
  SupervisorAck,
  SupervisorInput,
} from '../core/supervisorMessages';
import { DriftReport, ReferenceProfile } from '../core/drift';
import { FactoryReport } from '../core/factoryReport';
import { ModelConfig } from '../core/modelConfig';
import { ModelCard } from '../core/modelCard';
import { NotificationBody } from '../core/notifications';
import { RunInput } from '../core/runInput';
import { ApprovalInput, RunStatus } from '../core/runStatus';
import { TRAINER_CONFIG_SCHEMA_FILE, TrainerConfig } from '../core/trainerConfig';
import { TRAINER_HYPERPARAMETERS, TRAINER_SCHEMA_FILES } from '../core/trainerHyperparameters';
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
  'run-finished-notice': { schema: RunFinishedNotice, io: 'input' as const },
  'codec-payloads': { schema: CodecPayloads, io: 'input' as const },
  'reference-profile': { schema: ReferenceProfile, io: 'output' as const },
  'trainer-config': { schema: TrainerConfig, io: 'input' as const },
  'factory-report': { schema: FactoryReport, io: 'output' as const },
  notification: { schema: NotificationBody, io: 'output' as const },
};

const render = (id: string, schema: z.ZodType, io: 'input' | 'output') =>
  `${JSON.stringify({ $id: id, ...z.toJSONSchema(schema, { io, unrepresentable: 'any' }) }, null, 2)}\n`;

/** Every generated schema file, by its path relative to the project root. */
export function renderSchemas(): Record<string, string> {
  return {
    ...Object.fromEntries(
      Object.entries(EXPORTED_SCHEMAS).map(([name, { schema, io }]) => [
        `schemas/${name}.schema.json`,
        render(`${name}.schema.json`, schema, io),
      ]),
    ),
    // The Python trainer SDK validates every trainer config against its own copy.
    [TRAINER_CONFIG_SCHEMA_FILE]: render('trainer-config.schema.json', TrainerConfig, 'input'),
    // Each trainer validates its hyperparameters against the file beside it.
    ...Object.fromEntries(
      Object.entries(TRAINER_HYPERPARAMETERS).map(([name, schema]) => [
        TRAINER_SCHEMA_FILES[name as keyof typeof TRAINER_SCHEMA_FILES],
        render(`${name}.hyperparameters.schema.json`, schema, 'input'),
      ]),
    ),
  };
}

export function writeSchemas(root = projectRoot): string[] {
  return Object.entries(renderSchemas()).map(([file, text]) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
    return file;
  });
}
