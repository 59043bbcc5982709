// The input of a retrainingPipeline run: what any Temporal client sends (exported as JSON Schema under schemas/).
import { z } from 'zod';
import { ModelConfig, ModelId } from './modelConfig';
import { ObjectKey } from './objectKey';

export const TriggerKind = z.enum(['manual', 'drift', 'schedule']);
export type TriggerKind = z.infer<typeof TriggerKind>;

export const RunInput = z
  .object({
    modelId: ModelId,
    dataset: z
      .object({
        keys: z
          .array(ObjectKey)
          .min(1)
          .describe('object keys (in the configured bucket) of the Parquet or CSV files to train on, in time order'),
      })
      .strict(),
    trigger: z
      .object({
        kind: TriggerKind.default('manual'),
        requestedBy: z.string().min(1).default('unknown'),
        idToken: z
          .string()
          .optional()
          .describe('OpenID Connect ID token of who starts the run (ct login); required where identities are verified'),
        reason: z.string().default(''),
        incident: z
          .object({
            id: z.string().min(1),
            supervisor: z
              .string()
              .min(1)
              .describe('workflow id of the continuousTraining workflow that started the run'),
            openedAt: z.string(),
            evidence: z
              .array(z.record(z.string(), z.unknown()))
              .describe('the reports and requests that opened the incident'),
          })
          .strict()
          .optional()
          .describe('set by the supervisor: the incident this run answers'),
      })
      .strict()
      .default({ kind: 'manual', requestedBy: 'unknown', reason: '' }),
    modelConfig: ModelConfig.optional().describe(
      'inline model configuration; when absent the configuration registered with `ct models register` is used',
    ),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.modelConfig && input.modelConfig.modelId !== input.modelId) {
      ctx.addIssue({
        code: 'custom',
        path: ['modelConfig', 'modelId'],
        message: `must equal modelId "${input.modelId}"`,
      });
    }
  });
export type RunInput = z.infer<typeof RunInput>;
export type RunInputJson = z.input<typeof RunInput>;
