// Reads a run's dataset files from S3 as one set of columns, with the SHA-256 of each file for lineage.
import { createHash } from 'node:crypto';
import type { Columns } from '../core/features';
import type { ModelConfig } from '../core/modelConfig';
import { concatColumns, readCsv, readParquet } from './datasetFiles';
import type { ObjectStore } from './objectStore';

export async function loadDataset(
  store: ObjectStore,
  config: ModelConfig,
  datasetKeys: string[],
  wantedColumns?: string[],
  read: (key: string) => Promise<Uint8Array> = (key) => store.getBytes(key),
): Promise<{ columns: Columns; rows: number; digests: Record<string, string> }> {
  const digests: Record<string, string> = {};
  const parts = [];
  for (const key of datasetKeys) {
    const bytes = await read(key);
    digests[key] = createHash('sha256').update(bytes).digest('hex');
    const source = store.uri(key);
    if (config.dataset.format === 'parquet') parts.push(await readParquet(bytes, source, wantedColumns));
    else {
      const types = Object.fromEntries(Object.entries(config.dataset.columns).map(([k, v]) => [k, v.type]));
      parts.push(readCsv(bytes, source, types));
    }
  }
  return { ...concatColumns(parts), digests };
}
