// Every workflow the control worker registers.
export { continuousTraining } from './continuousTraining';
export { driftCheck } from './driftCheck';
export { retrainingPipeline } from './retrainingPipeline';
export { scheduledRetrain } from './scheduledRetrain';
export { rollbackChampion } from './rollback';
