// Reading and writing tabular files (Parquet, CSV) as columns of plain cells.
import { parquetMetadata, type FileMetaData, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { CodedCategories } from '../core/drift/categories';
import { typeCell } from '../core/csv';
import { csvProblem, parseCsvText } from './csvFiles';
import type { Cell, Columns } from '../core/features';
import type { ColumnType } from '../core/modelConfig';
import { readParquetRows } from './parquetColumns';

export class UnreadableDatasetError extends Error {
  override readonly name = 'UnreadableDatasetError';
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

/**
 * Reads a Parquet file's columns (all, or the `wanted` ones it has), with each column's type from its schema; the
 * string columns named in `coded` come as dictionary codes (in `coded`), not as cells.
 */
export async function readParquet(
  bytes: Uint8Array,
  source: string,
  wanted?: string[],
  coded?: ReadonlySet<string>,
): Promise<{
  columns: Columns;
  coded: Record<string, CodedCategories>;
  rows: number;
  types: Record<string, ColumnType>;
}> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(file);
  } catch (err) {
    throw new UnreadableDatasetError(`${source} is not a readable Parquet file (${(err as Error).message})`);
  }
  const rows = Number(metadata.num_rows);
  const available = metadata.schema.slice(1).map((s) => s.name);
  const types = Object.fromEntries(metadata.schema.slice(1).map((s) => [s.name, columnTypeOf(s)]));
  const names = wanted ? wanted.filter((c) => available.includes(c)) : available;
  const asyncFile = { byteLength: file.byteLength, slice: (start: number, end?: number) => file.slice(start, end) };
  try {
    return { ...(await readParquetRows(asyncFile, metadata, names, 0, rows, coded)), rows, types };
  } catch (err) {
    throw new UnreadableDatasetError(`${source} is truncated or corrupt Parquet (${(err as Error).message})`);
  }
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
