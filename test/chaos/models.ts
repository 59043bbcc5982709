// The chaos cells' model configs: the tests' shrunk flight-delay model, watched by its supervisor over data/.
import { ModelConfig, type ModelConfigInput } from '../../core/modelConfig';
import { testModelConfig } from '../helpers/flights';
import { DATA_PREFIX, MODEL_ID } from './cellStack';

export const CHECKPOINT_EVERY_STEPS = 5;

/**
 * A run that takes a few seconds per stage. `slow`: ~70 training steps at ≥150 ms each (long enough to hit a
 * moment in training), a checkpoint every 5 steps, a 5 s heartbeat timeout (a lost trainer is seen at once).
 */
export function chaosModel(
  options: { approval?: ModelConfigInput['approval']; slow?: boolean; notifyUrl?: string } = {},
): ModelConfig {
  const base = testModelConfig(
    options.slow
      ? {
          command: ['env', 'CT_TRAINER_STEP_DELAY_MS=150', 'python3', 'trainers/flight_delay/train.py'],
          hyperparameters: { epochs: 4 },
        }
      : {},
  );
  return ModelConfig.parse({
    ...base,
    modelId: MODEL_ID,
    trainer: {
      ...base.trainer,
      ...(options.slow
        ? { heartbeatTimeoutSeconds: 10, checkpoint: { everySteps: CHECKPOINT_EVERY_STEPS, everySeconds: 0 } }
        : {}),
    },
    approval: options.approval ?? { mode: 'auto' },
    continuousTraining: { data: { prefix: DATA_PREFIX }, cooldown: '1h' },
    ...(options.notifyUrl ? { notifications: { url: options.notifyUrl, retry: { initialInterval: '1s' } } } : {}),
  });
}
