// Activity factories by worker: the control worker (task queue ct) and the GPU worker (task queue ct-gpu).
import type { ActivityDeps } from './context';
import { createDataActivities } from './dataActivities';
import { createEvaluationActivities } from './evaluateActivity';
import { createRegistryActivities } from './registryActivities';
import { createTrainingActivities } from './trainActivity';

export type { ActivityDeps } from './context';

export function createControlActivities(deps: ActivityDeps) {
  return { ...createDataActivities(deps), ...createEvaluationActivities(deps), ...createRegistryActivities(deps) };
}

export function createGpuActivities(deps: ActivityDeps) {
  return createTrainingActivities(deps);
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
export type GpuActivities = ReturnType<typeof createGpuActivities>;
