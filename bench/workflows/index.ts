// The benchmarks' workflow bundle: every workflow of the project, and the floor workflow of bench/overhead.ts.
export * from '../../workflows';
export { noopSteps } from './floor';
