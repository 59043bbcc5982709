// Every workflow the control worker registers.
export { retrainingPipeline } from './retrainingPipeline';
