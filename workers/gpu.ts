// The GPU worker: training activities only, on task queue ct-gpu, one slot per GPU (1 on CPU).
import { exitOnError, runWorkerProcess } from './process';

runWorkerProcess('gpu').catch(exitOnError);
