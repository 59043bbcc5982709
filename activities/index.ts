// Activity factories by worker: the control worker (task queue ct) and the GPU worker (task queue ct-gpu).
import { createGovernanceActivities } from './governanceActivities';
import { createAuditActivities } from './auditActivities';
import { createNotifyActivities } from './notifyActivities';
import type { ActivityDeps } from './context';
import { createDataActivities } from './dataActivities';
import { createDriftActivities } from './driftActivities';
import { createSupervisorActivities } from './supervisorActivities';
import { createEvaluationActivities } from './evaluateActivity';
import { createExperimentActivities } from './experimentActivities';
import { createPreflightActivities } from './preflightActivity';
import { createRegistryActivities } from './registryActivities';
import { createRollbackActivities } from './rollbackActivities';
import { createTrainingActivities, type TrainingDeps } from './trainActivity';
import { createTrackingActivities } from './trackingActivities';

export type { ActivityDeps } from './context';
export type { TrainingDeps } from './trainActivity';

export function createControlActivities(deps: ActivityDeps) {
  return {
    ...createDataActivities(deps),
    ...createEvaluationActivities(deps),
    ...createExperimentActivities(deps),
    ...createPreflightActivities(deps),
    ...createRegistryActivities(deps),
    ...createRollbackActivities(deps),
    ...createAuditActivities(deps),
    ...createNotifyActivities(deps),
    ...createGovernanceActivities(deps),
    ...createDriftActivities(deps),
    ...createSupervisorActivities(deps),
    ...createTrackingActivities(deps),
  };
}

export function createGpuActivities(deps: TrainingDeps) {
  return createTrainingActivities(deps);
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
export type GpuActivities = ReturnType<typeof createGpuActivities>;
