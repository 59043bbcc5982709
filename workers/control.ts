// The control worker: every workflow and the CPU activities, on task queue ct.
import { exitOnError, runWorkerProcess } from './process';

runWorkerProcess('control').catch(exitOnError);
