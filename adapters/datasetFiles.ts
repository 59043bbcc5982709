// Reading and writing tabular files (Parquet, CSV) as columns of plain cells.
import { parquetMetadata, parquetRead, type SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { typeCell } from '../core/csv';
import { csvProblem, parseCsvText } from './csvFiles';
import type { Cell, Columns } from '../core/features';
import type { ColumnType } from '../core/modelConfig';

export class UnreadableDatasetError extends Error {
  override readonly name = 'UnreadableDatasetError';
}

/** A decoded Parquet value as a plain cell (bigints and dates as numbers, nested values as JSON). */
export function toCell(v: unknown): Cell {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

/** The column type a Parquet schema element stands for, as a model config would declare it. */
function columnTypeOf(e: SchemaElement): ColumnType {
  const logical = e.logical_type?.type;
  if (
    logical === 'TIMESTAMP' ||
    logical === 'DATE' ||
    e.converted_type?.startsWith('TIMESTAMP') ||
    e.converted_type === 'DATE' ||
    e.type === 'INT96'
  ) {
    return 'timestamp';
  }
  if (e.type === 'BOOLEAN') return 'boolean';
  if (e.type === 'BYTE_ARRAY' || (e.type === 'FIXED_LEN_BYTE_ARRAY' && e.converted_type !== 'DECIMAL')) return 'string';
  return 'number';
}

/** Reads a Parquet file's columns (all, or the `wanted` ones it has), with each column's type from its schema. */
export async function readParquet(
  bytes: Uint8Array,
  source: string,
  wanted?: string[],
): Promise<{ columns: Columns; rows: number; types: Record<string, ColumnType> }> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let rows: number;
  let available: string[];
  let types: Record<string, ColumnType>;
  try {
    const meta = parquetMetadata(file);
    rows = Number(meta.num_rows);
    available = meta.schema.slice(1).map((s) => s.name);
    types = Object.fromEntries(meta.schema.slice(1).map((s) => [s.name, columnTypeOf(s)]));
  } catch (err) {
    throw new UnreadableDatasetError(`${source} is not a readable Parquet file (${(err as Error).message})`);
  }
  const names = wanted ? wanted.filter((c) => available.includes(c)) : available;
  const columns: Columns = Object.fromEntries(names.map((n) => [n, new Array<Cell>(rows).fill(null)]));
  try {
    await parquetRead({
      file,
      compressors,
      columns: names,
      onChunk: ({ columnName, columnData, rowStart }) => {
        const target = columns[columnName];
        if (!target) return;
        for (let i = 0; i < columnData.length; i++) {
          const row = rowStart + i;
          if (row < rows) target[row] = toCell(columnData[i]);
        }
      },
    });
  } catch (err) {
    throw new UnreadableDatasetError(`${source} is truncated or corrupt Parquet (${(err as Error).message})`);
  }
  return { columns, rows, types };
}

export function readCsv(
  bytes: Uint8Array,
  source: string,
  types: Record<string, ColumnType>,
): { columns: Columns; rows: number } {
  let parsed: ReturnType<typeof parseCsvText>;
  try {
    parsed = parseCsvText(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new UnreadableDatasetError(`${source} is not readable CSV: ${csvProblem(err)}`);
  }
  const columns: Columns = {};
  parsed.header.forEach((name, c) => {
    columns[name] = parsed.rows.map((r) => typeCell(r[c]!, types[name]));
  });
  return { columns, rows: parsed.rows.length };
}

/** Concatenates column sets read from several files (columns missing from a file are filled with nulls). */
export function concatColumns(parts: { columns: Columns; rows: number }[]): { columns: Columns; rows: number } {
  const names = [...new Set(parts.flatMap((p) => Object.keys(p.columns)))];
  const rows = parts.reduce((s, p) => s + p.rows, 0);
  const columns: Columns = {};
  for (const name of names) columns[name] = parts.flatMap((p) => p.columns[name] ?? new Array<Cell>(p.rows).fill(null));
  return { columns, rows };
}

export type ParquetColumn = {
  name: string;
  data: (number | string | null)[];
  type: 'DOUBLE' | 'STRING' | 'INT32' | 'TIMESTAMP';
};

export function writeParquet(columns: ParquetColumn[]): Uint8Array {
  const data = columns.map((c) => ({
    ...c,
    data: c.type === 'TIMESTAMP' ? c.data.map((v) => (v === null ? null : new Date(v))) : c.data,
  }));
  return new Uint8Array(parquetWriteBuffer({ columnData: data }));
}
