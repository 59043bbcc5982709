// A split's Parquet file (trainers/PROTOCOL.md "Train config"): the model's features, typed as declared, and its
// label (an integer class, or a number for regression). Written by split preparation and by preflight's slices.
import type { ModelConfig } from '../core/modelConfig';
import { type ParquetColumn, writeParquet } from './datasetFiles';

export type SplitValue = number | string | null;

export function writeSplitFile(config: ModelConfig, valuesOf: (column: string) => SplitValue[]): Uint8Array {
  const out: ParquetColumn[] = config.features.map((f) => ({
    name: f.name,
    type: f.type === 'numeric' ? 'DOUBLE' : 'STRING',
    data: valuesOf(f.name),
  }));
  out.push({
    name: config.label.name,
    type: config.task === 'regression' ? 'DOUBLE' : 'INT32',
    data: valuesOf(config.label.name),
  });
  return writeParquet(out);
}
