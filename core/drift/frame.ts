// Feature frames: the columns drift is measured on, derived from dataset columns.
import { type Cell, type Columns, deriveFeature, isMissing } from '../features';
import type { ModelConfig } from '../modelConfig';
import { InvalidInputError } from '../parse';

export type FeatureColumn =
  | { name: string; kind: 'numeric'; values: Float64Array } // NaN = missing
  | { name: string; kind: 'categorical'; values: string[] }; // '' = missing
export type FeatureFrame = FeatureColumn[];
export type FeatureKind = FeatureColumn['kind'];

/** The rows of a frame (its longest column). */
export const frameRows = (frame: FeatureFrame): number => frame.reduce((n, c) => Math.max(n, c.values.length), 0);

/** The model's features, derived from the dataset's columns as prepare derives them. */
export function featureFrame(config: ModelConfig, columns: Columns): FeatureFrame {
  const missing = config.features.filter((f) => !(f.source in columns));
  if (missing.length > 0) {
    throw new InvalidInputError('drift data', missing.map((f) => `column "${f.source}" (source of feature "${f.name}") is missing`));
  }
  return config.features.map((f): FeatureColumn => {
    const cells = columns[f.source]!;
    if (f.type === 'numeric') return { name: f.name, kind: 'numeric', values: Float64Array.from(cells, (c) => deriveFeature(f, c) as number) };
    return { name: f.name, kind: 'categorical', values: cells.map((c) => deriveFeature(f, c) as string) };
  });
}

function kindOf(cells: Cell[]): FeatureKind {
  const first = cells.find((c) => !isMissing(c));
  return typeof first === 'number' ? 'numeric' : 'categorical';
}

/**
 * Every column as a feature, for data without a model config: numbers (and timestamps, as epoch ms) are numeric,
 * strings and booleans categorical. `kinds` fixes the kind per column (the reference's, when reading the current window).
 */
export function columnsFrame(columns: Columns, kinds?: Record<string, FeatureKind>): FeatureFrame {
  return Object.entries(columns).map(([name, cells]): FeatureColumn => {
    const kind = kinds?.[name] ?? kindOf(cells);
    if (kind === 'numeric') return { name, kind, values: Float64Array.from(cells, (c) => (typeof c === 'number' ? c : typeof c === 'boolean' ? Number(c) : Number.NaN)) };
    return { name, kind, values: cells.map((c) => (isMissing(c) ? '' : String(c))) };
  });
}
