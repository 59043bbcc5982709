// The model the load and overhead benchmarks run: the test model with bench/tiny_trainer.py (one step, no
// checkpoints) and a gate every run passes, so what is measured is the orchestration around the trainer.
import { ModelConfig } from '../core/modelConfig';
import { testModelConfig } from '../test/helpers/flights';

export function benchModelConfig(modelId: string): ModelConfig {
  const base = testModelConfig();
  return ModelConfig.parse({
    ...base,
    modelId,
    trainer: {
      ...base.trainer,
      command: ['python3', 'bench/tiny_trainer.py'],
      hyperparameterRules: undefined,
      checkpoint: { everySteps: 0, everySeconds: 0 },
    },
    hyperparameters: {},
    gate: {},
  });
}
