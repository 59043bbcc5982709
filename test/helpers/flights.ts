// A small slice of the real flights data (the first rows of January 2001) for fast integration tests.
import { readFile } from 'node:fs/promises';
import { parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { writeParquet } from '../../adapters/datasetFiles';
import { FLIGHTS_FILE } from '../../cli/ingestFlights';
import { ModelConfig } from '../../core/modelConfig';
import { loadModelConfigFile } from '../../cli/models';
import { projectRoot } from '../../stack/paths';
import path from 'node:path';

export type FlightRows = {
  date: number[];
  delay: number[];
  distance: number[];
  origin: string[];
  destination: string[];
};

export async function readFlightsSlice(rowStart: number, rowEnd: number): Promise<FlightRows> {
  const bytes = await readFile(FLIGHTS_FILE);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const rows = await new Promise<unknown[][]>((resolve, reject) => {
    parquetRead({ file, compressors, rowStart, rowEnd, onComplete: (d) => resolve(d as unknown[][]) }).catch(reject);
  });
  return {
    date: rows.map((r) => (r[0] as Date).getTime()),
    delay: rows.map((r) => Number(r[1])),
    distance: rows.map((r) => Number(r[2])),
    origin: rows.map((r) => String(r[3])),
    destination: rows.map((r) => String(r[4])),
  };
}

export function flightsParquet(f: FlightRows): Uint8Array {
  return writeParquet([
    { name: 'date', type: 'TIMESTAMP', data: f.date },
    { name: 'delay', type: 'INT32', data: f.delay },
    { name: 'distance', type: 'INT32', data: f.distance },
    { name: 'origin', type: 'STRING', data: f.origin },
    { name: 'destination', type: 'STRING', data: f.destination },
  ]);
}

/** The demo's model config, shrunk for tests: fewer rows, one short epoch, a trainer command that can be wrapped. */
export function testModelConfig(
  overrides: {
    hyperparameters?: Record<string, unknown>;
    command?: string[];
    approval?: 'auto' | 'manual';
    reuse?: 'identical' | 'never';
    preflight?: boolean;
  } = {},
): ModelConfig {
  const base = loadModelConfigFile(path.join(projectRoot, 'models', 'flight-delay.yaml'));
  return ModelConfig.parse({
    ...base,
    dataset: { ...base.dataset, minRows: 1000, sampleRows: 12000 },
    trainer: {
      ...base.trainer,
      command: overrides.command ?? base.trainer.command,
      heartbeatTimeoutSeconds: 30,
      checkpoint: { everySteps: 5, everySeconds: 30 },
    },
    hyperparameters: { ...base.hyperparameters, epochs: 2, batchSize: 512, ...overrides.hyperparameters },
    evaluation: { ...base.evaluation, minSliceRows: 50 },
    gate: { minimum: { rocAuc: 0.5 }, maximum: {}, maxRegression: { rocAuc: 0.2 } },
    approval: { mode: overrides.approval ?? 'auto' },
    // Tests that train the same data twice mean to train twice; experiment memory has its own test.
    reuse: overrides.reuse ?? 'never',
    // A smoke run costs two trainer starts per run; preflight has its own tests.
    preflight: { enabled: overrides.preflight ?? false },
  });
}
