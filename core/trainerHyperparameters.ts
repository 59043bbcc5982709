// The hyperparameters each known trainer accepts, one zod schema per trainer. It is the single source of truth:
// the model config is checked against it at registration, and `npm run schemas` writes it as JSON Schema beside
// the trainer, which validates its config file against that same file.
import { z } from 'zod';

/** trainers/flight_delay: the reference PyTorch trainer. */
export const FlightDelayHyperparameters = z
  .object({
    epochs: z.int().positive().default(3),
    batchSize: z.int().positive().default(2048),
    learningRate: z.number().positive().default(0.003),
    embeddingDim: z.int().positive().default(8),
    hiddenUnits: z.array(z.int().positive()).default([64, 32]).describe('sizes of the hidden layers'),
    weightDecay: z.number().min(0).default(0),
  })
  .strict();

/** trainers/digits: the small CNN on scikit-learn's 8×8 digits (the multiclass example). */
export const DigitsHyperparameters = z
  .object({
    epochs: z.int().positive().default(15),
    batchSize: z.int().positive().default(64),
    learningRate: z.number().positive().default(0.003),
    channels: z
      .array(z.int().positive())
      .min(1)
      .max(3)
      .default([16, 32])
      .describe('output channels of each 3×3 convolution (each followed by ReLU and 2×2 max-pooling)'),
    dropout: z.number().min(0).lt(1).default(0.1),
    weightDecay: z.number().min(0).default(0),
  })
  .strict();

export const TRAINER_HYPERPARAMETERS = {
  'flight-delay': FlightDelayHyperparameters,
  digits: DigitsHyperparameters,
} as const;
export const TrainerName = z.enum(Object.keys(TRAINER_HYPERPARAMETERS) as [keyof typeof TRAINER_HYPERPARAMETERS]);
export type TrainerName = z.infer<typeof TrainerName>;

/** Where each trainer finds its generated schema (relative to the project root). */
export const TRAINER_SCHEMA_FILES: Record<TrainerName, string> = {
  'flight-delay': 'trainers/flight_delay/hyperparameters.schema.json',
  digits: 'trainers/digits/hyperparameters.schema.json',
};
