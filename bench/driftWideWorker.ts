// A worker thread of bench:drift's wide case (bench/driftWide.ts): profiles its share of the reference's columns,
// or streams its share of the current window's blocks through a WindowProfile, and posts the result as JSON —
// the parts a fanned-out drift check hands to its merge.
import { parentPort, workerData } from 'node:worker_threads';
import {
  type DriftSettings,
  type FeatureFrame,
  type FeatureProfile,
  profileReference,
  type ReferenceProfile,
  WindowProfile,
} from '../core/drift';
import { blockRows, wholeColumns, wideBlock, WIDE_COLUMNS, wideSettings } from './wideData';

export type WideTask =
  | { task: 'reference'; rows: number; columns: number[] }
  | { task: 'window'; rows: number; blocks: [number, number]; reference: ReferenceProfile };

/** Reference columns held at once while profiling: bounds the worker's memory (rows × 8 bytes each). */
const PROFILE_GROUP = 50;

function referenceFeatures(rows: number, columns: number[], settings: DriftSettings): FeatureProfile[] {
  const features: FeatureProfile[] = [];
  for (let g = 0; g < columns.length; g += PROFILE_GROUP)
    features.push(
      ...profileReference(wholeColumns('reference', rows, columns.slice(g, g + PROFILE_GROUP)), settings).features,
    );
  return features;
}

function windowPart(task: Extract<WideTask, { task: 'window' }>, settings: DriftSettings): WindowProfile {
  const window = new WindowProfile(task.reference, settings);
  const columns = Array.from({ length: WIDE_COLUMNS }, (_, j) => j);
  let frame: FeatureFrame | undefined;
  for (let b = task.blocks[0]; b < task.blocks[1]; b++) {
    frame = wideBlock('current', b, blockRows(task.rows, b), columns, frame);
    window.add(frame);
  }
  return window;
}

const task = workerData as WideTask;
const settings = wideSettings();
if (task.task === 'reference') parentPort!.postMessage(referenceFeatures(task.rows, task.columns, settings));
else parentPort!.postMessage(windowPart(task, settings).toJSON());
