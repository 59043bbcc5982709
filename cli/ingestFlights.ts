// Puts the real vega-datasets flights (3M US flights, Jan–Jun 2001) into S3 as one Parquet file per month.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readParquet, writeParquet, type ParquetColumn } from '../adapters/datasetFiles';
import type { ObjectStore } from '../adapters/objectStore';

import { projectRoot } from '../stack/paths';

// The package's exports hide data/, so the file is addressed inside node_modules.
export const FLIGHTS_FILE = path.join(projectRoot, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
export const flightsMonthKey = (month: string) => `datasets/flights/${month}.parquet`;
export const FLIGHT_MONTHS = ['2001-01', '2001-02', '2001-03', '2001-04', '2001-05', '2001-06'];

/** Writes the monthly partitions that are not in S3 yet; returns their keys in time order. */
export async function ingestFlights(
  store: ObjectStore,
  onProgress: (msg: string) => void = () => {},
): Promise<string[]> {
  const keysList = FLIGHT_MONTHS.map(flightsMonthKey);
  const present = await Promise.all(keysList.map((k) => store.exists(k)));
  if (present.every(Boolean)) return keysList;
  onProgress(`reading ${FLIGHTS_FILE}`);
  const { columns, rows } = await readParquet(await readFile(FLIGHTS_FILE), FLIGHTS_FILE);
  const byMonth = new Map<string, number[]>();
  const dates = columns.date!;
  for (let i = 0; i < rows; i++) {
    const month = new Date(dates[i] as number).toISOString().slice(0, 7);
    (byMonth.get(month) ?? byMonth.set(month, []).get(month)!).push(i);
  }
  for (const [i, month] of FLIGHT_MONTHS.entries()) {
    if (present[i]) continue;
    const idx = byMonth.get(month) ?? [];
    const pick = (name: string) => idx.map((r) => columns[name]![r] as number | string | null);
    const out: ParquetColumn[] = [
      { name: 'date', type: 'TIMESTAMP', data: pick('date') },
      { name: 'delay', type: 'INT32', data: pick('delay') },
      { name: 'distance', type: 'INT32', data: pick('distance') },
      { name: 'origin', type: 'STRING', data: pick('origin') },
      { name: 'destination', type: 'STRING', data: pick('destination') },
    ];
    await store.put(flightsMonthKey(month), writeParquet(out));
    onProgress(`stored ${store.uri(flightsMonthKey(month))} (${idx.length} flights)`);
  }
  return keysList;
}
